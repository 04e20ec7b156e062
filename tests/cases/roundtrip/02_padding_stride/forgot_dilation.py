# ignores dilation and checks nothing: conv_output_size's visible (1), hidden (2) and error (1) tests fail;
# conv2d's tests give it PyTorch's conv_output_size, so conv2d keeps its points: 25 - 4 = 21
# points: 21
# solved: answers conv2d pad2d receptive_field
# %% cell conv_output_size
def conv_output_size(n, k, padding=0, stride=1, dilation=1):
    return (n + 2 * padding - k) // stride + 1
