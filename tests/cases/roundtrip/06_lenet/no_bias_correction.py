# Adam without the bias correction (m and s used as they are): its first steps are far too small, so
# adam_step's visible test (1) and the hidden comparison (2, both optimizers in one cell) fail: 16 - 3 = 13
# points: 13
# solved: build_lenet evaluate_accuracy
# %% cell optimizer_steps
def momentum_step(w, grad, velocity, lr, momentum=0.9):
    if grad.shape != w.shape or velocity.shape != w.shape:
        raise ValueError(f'w {tuple(w.shape)}, grad {tuple(grad.shape)}, velocity {tuple(velocity.shape)}')
    velocity = momentum * velocity + grad
    return w - lr * velocity, velocity

def adam_step(w, grad, m, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    if grad.shape != w.shape or m.shape != w.shape or s.shape != w.shape:
        raise ValueError(f'w {tuple(w.shape)}, grad {tuple(grad.shape)}, '
                         f'm {tuple(m.shape)}, s {tuple(s.shape)}')
    if t < 1:
        raise ValueError(f't = {t}')
    m = betas[0] * m + (1 - betas[0]) * grad
    s = betas[1] * s + (1 - betas[1]) * grad ** 2
    return w - lr * m / (s.sqrt() + eps), m, s
