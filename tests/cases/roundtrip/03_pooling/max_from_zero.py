# pads with zeros and starts the max from 0: right on the positive worked examples, wrong on negative inputs
# (3 hidden points) and on the visible -1 - arange(9) case with padding 1 (test_max_pool_arange's point: Validate
# shows the mistake); its pool_geometry checks nothing, so pool_geometry's error test fails (1); max_pool2d's own
# error test hands it PyTorch's pool_geometry, so it keeps that point: 25 - 5 = 20
# points: 20
# solved: answers avg_pool2d global_avg_pool2d
# %% cell pool_geometry
def pool_geometry(X, kernel_size, stride=None, padding=0, ceil_mode=False):
    kh, kw = cu.pair(kernel_size, 'k')
    sh, sw = cu.pair(kernel_size if stride is None else stride, 's')
    ph, pw = cu.pair(padding, 'p')
    H, W = X.shape[-2:]
    sizes = []
    for n, k, s, p in ((H, kh, sh, ph), (W, kw, sw, pw)):
        out = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        sizes.append(out)
    return (kh, kw), (sh, sw), (ph, pw), tuple(sizes)

# %% cell max_pool2d
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (sh, sw), (ph, pw), _ = pool_geometry(X, kernel_size, stride, padding)
    N, C, H, W = X.shape
    Xp = X.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    Xp[:, :, ph:ph + H, pw:pw + W] = X
    return Xp.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1)).clamp(min=0)
