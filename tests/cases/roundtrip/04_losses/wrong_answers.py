# every exercise solved; of the questions, the form test passes (1), uniform_loss in log base 10 and the softmax
# without the one-hot as ce_gradient fail, the other two are right (2): 16 + 1 + 2 = 19
# points: 19
# solved: binary_cross_entropy cross_entropy sigmoid softmax
# %% cell answers
uniform_loss = 1.0
ce_gradient = (0.1, 0.2, 0.3, 0.4)
bce_clamped_mean = 50
nan_form = "B"
