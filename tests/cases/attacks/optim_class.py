# momentum_step and adam_step let torch.optim do the step (forbidden in this exercise, and only there:
# train_epoch must use the optimizer it is given). Shapes are checked first, so the error test still passes.
import torch as _torch


def _check(w, **tensors):
    for name, t in tensors.items():
        if tuple(t.shape) != tuple(w.shape):
            raise ValueError(f"{name} must be shaped like w, {tuple(w.shape)}; got {tuple(t.shape)}")


def momentum_step(w, grad, velocity, lr, momentum=0.9):
    _check(w, grad=grad, velocity=velocity)
    p = w.detach().clone().requires_grad_()
    opt = _torch.optim.SGD([p], lr=lr, momentum=momentum)
    opt.state[p]["momentum_buffer"] = velocity.detach().clone().to(w.dtype)
    p.grad = grad.to(w.dtype).clone()
    opt.step()
    return p.detach(), opt.state[p]["momentum_buffer"].clone()


def adam_step(w, grad, m, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    _check(w, grad=grad, m=m, s=s)
    if t < 1:
        raise ValueError(f"t counts steps from 1; got t={t}")
    p = w.detach().clone().requires_grad_()
    opt = _torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    opt.state[p] = {
        "step": _torch.tensor(float(t - 1)),
        "exp_avg": m.detach().clone().to(w.dtype),
        "exp_avg_sq": s.detach().clone().to(w.dtype),
    }
    p.grad = grad.to(w.dtype).clone()
    opt.step()
    return p.detach(), opt.state[p]["exp_avg"].clone(), opt.state[p]["exp_avg_sq"].clone()
