# batch_norm2d updates the running variance with the batch's biased variance (divided by N*H*W, the one it
# normalises with) instead of the unbiased one: the visible training test (1) and the hidden step-by-step
# comparison (2) fail on running_var; eval mode, the dtype and the errors pass: 27 - 3 = 24
# points: 24
# solved: build_lenet evaluate_accuracy optimizer_steps answers
# %% cell batch_norm2d
def batch_norm2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if X.dim() != 4:
        raise ValueError(f"X must be (N, C, H, W), got {tuple(X.shape)}")
    C = X.shape[1]
    for t in (gamma, beta, running_mean, running_var):
        if t.shape != (C,):
            raise ValueError(f"expected shape ({C},), got {tuple(t.shape)}")
    if training:
        mean = X.mean(dim=(0, 2, 3))
        var = ((X - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var)
    else:
        mean, var = running_mean, running_var
    X_hat = (X - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)
    return gamma[None, :, None, None] * X_hat + beta[None, :, None, None]
