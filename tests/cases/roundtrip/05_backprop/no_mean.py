# the mean squared error's gradient without the 1/M: steps M times too large, the descent blows up; both
# graded runs of learn_kernel fail (2 + 3), its error test passes (1): 21 - 5 = 16
# (the questions left as released, unanswered: none of their 5 points, so the sum is over the exercises)
# points: 16
# solved: avg_pool2d_backward conv2d_backward max_pool2d_backward
# %% cell learn_kernel
def conv2d(X, W, b=None):
    if X.shape[1] != W.shape[1]:
        raise ValueError(f'channels: X {tuple(X.shape)}, W {tuple(W.shape)}')
    kh, kw = W.shape[-2:]
    windows = X.unfold(2, kh, 1).unfold(3, kw, 1)
    return torch.einsum('nchwij,ocij->nohw', windows, W.to(X.dtype))

def learn_kernel(X, Y, W0, lr=0.1, steps=300):
    if steps < 0:
        raise ValueError(f'steps = {steps}')
    W = W0.clone().to(X.dtype)
    if tuple(conv2d(X, W).shape) != tuple(Y.shape):
        raise ValueError(f'Y {tuple(Y.shape)} for X {tuple(X.shape)}, W0 {tuple(W0.shape)}')
    losses = []
    for _ in range(steps):
        residual = conv2d(X, W) - Y
        losses.append((residual ** 2).mean().item())
        W = W - lr * conv2d_backward(2 * residual, X, W)[1]
    return W, losses
