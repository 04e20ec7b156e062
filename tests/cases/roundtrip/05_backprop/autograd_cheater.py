# lets autograd do the work: every guarded conv2d_backward test fails (2 + 1 + 4), and the error test too
# (autograd rejects a dY of the wrong shape with a RuntimeError, not a ValueError): 21 - 8 = 13; learn_kernel,
# which calls it, is graded with the course's conv2d_backward and keeps its 6 points
# (the questions left as released, unanswered: none of their 5 points, so the sum is over the exercises)
# points: 13
# solved: avg_pool2d_backward learn_kernel max_pool2d_backward
# %% cell conv2d_backward
def conv2d_backward(dY, X, W, stride=1, padding=0):
    X = X.detach().requires_grad_()
    W = W.detach().requires_grad_()
    b = torch.zeros(W.shape[0], dtype=X.dtype, requires_grad=True)
    with torch.enable_grad():
        Y = F.conv2d(X, W, b, stride=stride, padding=padding)
        return torch.autograd.grad(Y, (X, W, b), dY)
