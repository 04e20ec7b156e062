# pads with zeros and starts the max from 0: right on the worked examples, wrong on negative inputs (3 hidden
# points); its _pool_geometry checks nothing, so both error tests fail too (1 + 1; avg_pool2d calls this
# _pool_geometry, the student's own choice): 16 - 5 = 11
# points: 11
# solved: avg_pool2d global_avg_pool2d
# %% cell max_pool2d
def _pair(value, name):
    return (value, value) if isinstance(value, int) else tuple(value)

def _pool_geometry(X, kernel_size, stride, padding, ceil_mode=False):
    kh, kw = _pair(kernel_size, 'k')
    sh, sw = _pair(kernel_size if stride is None else stride, 's')
    ph, pw = _pair(padding, 'p')
    H, W = X.shape[-2:]
    sizes = []
    for n, k, s, p in ((H, kh, sh, ph), (W, kw, sw, pw)):
        out = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        sizes.append(out)
    return (kh, kw), (sh, sw), (ph, pw), tuple(sizes)

def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (sh, sw), (ph, pw), _ = _pool_geometry(X, kernel_size, stride, padding)
    N, C, H, W = X.shape
    Xp = X.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    Xp[:, :, ph:ph + H, pw:pw + W] = X
    return Xp.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1)).clamp(min=0)
