# conv2d's cell never finishes: the cell times out, the rest of the notebook is still graded
# points: 12
# solved: convolve2d corr2d
# %% cell conv2d
while True:
    pass
