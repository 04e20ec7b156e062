"""Plausible mistakes in 06_lenet's exercises (see autograder.cli.mutation)."""

from autograder.cli.mutation import Mutant

MUTANTS = [
    # build_lenet
    Mutant(
        "lenet_no_padding",
        "build_lenet",
        "nn.Conv2d(1, 6, kernel_size=5, padding=2)",
        "nn.Conv2d(1, 6, kernel_size=5)",
        "first conv without padding",
    ),
    Mutant(
        "lenet_relu",
        "build_lenet",
        "nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid()",
        "nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU()",
        "ReLU instead of sigmoid",
    ),
    Mutant(
        "lenet_max_pool",
        "build_lenet",
        "nn.Sigmoid(), nn.AvgPool2d(2, 2),\n        nn.Conv2d(6, 16",
        "nn.Sigmoid(), nn.MaxPool2d(2, 2),\n        nn.Conv2d(6, 16",
        "max pooling instead of average",
    ),
    Mutant(
        "lenet_softmax_at_end",
        "build_lenet",
        "nn.Linear(84, 10),\n    )",
        "nn.Linear(84, 10), nn.Softmax(dim=1),\n    )",
        "a softmax layer at the end",
    ),
    Mutant(
        "lenet_no_last_sigmoid",
        "build_lenet",
        "nn.Linear(120, 84), nn.Sigmoid(),",
        "nn.Linear(120, 84),",
        "one activation missing",
    ),
    # build_lenet_relu
    Mutant(
        "relu_avg_pool",
        "build_lenet_relu",
        "nn.Conv2d(1, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2)",
        "nn.Conv2d(1, 20, kernel_size=5), nn.ReLU(), nn.AvgPool2d(2, 2)",
        "average pooling instead of max",
    ),
    Mutant(
        "relu_kernel_5",
        "build_lenet_relu",
        "nn.Conv2d(20, 50, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2, 2),\n"
        "        nn.Flatten(),\n        nn.Linear(50 * 5 * 5, 128)",
        "nn.Conv2d(20, 50, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),\n"
        "        nn.Flatten(),\n        nn.Linear(50 * 6 * 6, 128)",
        "padded second conv",
    ),
    Mutant(
        "relu_softmax_at_end",
        "build_lenet_relu",
        "nn.Linear(128, 10),\n    )",
        "nn.Linear(128, 10), nn.Softmax(dim=1),\n    )",
        "a softmax layer at the end",
    ),
    Mutant(
        "relu_sigmoid",
        "build_lenet_relu",
        "nn.Linear(50 * 5 * 5, 128), nn.ReLU(),",
        "nn.Linear(50 * 5 * 5, 128), nn.Sigmoid(),",
        "sigmoid in the dense part",
    ),
    # evaluate_accuracy
    Mutant(
        "eval_per_batch_mean",
        "evaluate_accuracy",
        "    correct = total = 0\n    with torch.no_grad():\n        for X, y in loader:\n"
        "            correct += int((net(X).argmax(dim=1) == y).sum())\n            total += len(y)\n    return correct / total",
        "    accuracies = []\n    with torch.no_grad():\n        for X, y in loader:\n"
        "            accuracies.append(float((net(X).argmax(dim=1) == y).double().mean()))\n    return sum(accuracies) / len(accuracies)",
        "averages per-batch accuracies",
    ),
    Mutant("eval_no_eval_mode", "evaluate_accuracy", "    net.eval()\n", "", "forgot net.eval()"),
    Mutant(
        "eval_no_no_grad",
        "evaluate_accuracy",
        "    with torch.no_grad():\n        for X, y in loader:\n"
        "            correct += int((net(X).argmax(dim=1) == y).sum())\n            total += len(y)",
        "    for X, y in loader:\n        correct += int((net(X).argmax(dim=1) == y).sum())\n        total += len(y)",
        "tracks gradients",
    ),
    Mutant(
        "eval_returns_tensor",
        "evaluate_accuracy",
        "            correct += int((net(X).argmax(dim=1) == y).sum())",
        "            correct += (net(X).argmax(dim=1) == y).sum()",
        "returns a tensor, not a float",
    ),
    Mutant(
        "eval_argmax_dim0",
        "evaluate_accuracy",
        "net(X).argmax(dim=1)",
        "net(X).argmax(dim=-1 if len(y) > 3 else 0)",
        "argmax along the batch for small batches",
    ),
    Mutant(
        "eval_first_batch",
        "evaluate_accuracy",
        "            total += len(y)",
        "            total += len(y)\n            break",
        "only the first batch",
    ),
    # train_epoch
    Mutant(
        "train_no_zero_grad",
        "train_epoch",
        "        optimizer.zero_grad()\n",
        "",
        "missing zero_grad: gradients accumulate",
    ),
    Mutant("train_no_train_mode", "train_epoch", "    net.train()\n", "", "forgot net.train()"),
    Mutant(
        "train_per_batch_mean_loss",
        "train_epoch",
        "total_loss += loss.item() * len(y)\n        correct += int((scores.argmax(dim=1) == y).sum())\n"
        "        total += len(y)\n    return total_loss / total, correct / total",
        "total_loss += loss.item()\n        correct += int((scores.argmax(dim=1) == y).sum())\n"
        "        total += len(y)\n    return total_loss / len(loader), correct / total",
        "averages batch losses, not samples",
    ),
    Mutant(
        "train_accuracy_after_step",
        "train_epoch",
        "correct += int((scores.argmax(dim=1) == y).sum())",
        "correct += int((net(X).argmax(dim=1) == y).sum())",
        "accuracy measured after the step",
    ),
    Mutant("train_no_step", "train_epoch", "        optimizer.step()\n", "", "forgot optimizer.step()"),
    Mutant(
        "train_zero_grad_after_backward",
        "train_epoch",
        "        optimizer.zero_grad()\n        loss.backward()",
        "        loss.backward()\n        optimizer.zero_grad()",
        "zero_grad between backward and step",
    ),
    Mutant(
        "train_returns_tensor_loss",
        "train_epoch",
        "total_loss += loss.item() * len(y)",
        "total_loss += loss.detach() * len(y)",
        "the mean loss as a tensor",
    ),
    # batch_norm2d
    Mutant(
        "bn_running_var_biased",
        "batch_norm2d",
        "momentum * var.flatten() * m / (m - 1))",
        "momentum * var.flatten())",
        "the running variance from the biased batch variance",
    ),
    Mutant(
        "bn_normalised_with_unbiased_var",
        "batch_norm2d",
        "var = X.var(dim=dims, correction=0, keepdim=True)",
        "var = X.var(dim=dims, keepdim=True)",
        "the output divided by the unbiased variance (and the running one corrected twice)",
    ),
    Mutant(
        "bn_running_stats_not_updated",
        "batch_norm2d",
        "        with torch.no_grad():  # the running statistics are no part of the graph\n"
        "            running_mean.copy_((1 - momentum) * running_mean + momentum * mean.flatten())\n"
        "            running_var.copy_((1 - momentum) * running_var + momentum * var.flatten() * m / (m - 1))\n",
        "",
        "running statistics never updated",
    ),
    Mutant(
        "bn_running_stats_rebound",
        "batch_norm2d",
        "            running_mean.copy_((1 - momentum) * running_mean + momentum * mean.flatten())\n"
        "            running_var.copy_((1 - momentum) * running_var + momentum * var.flatten() * m / (m - 1))",
        "            running_mean = (1 - momentum) * running_mean + momentum * mean.flatten()\n"
        "            running_var = (1 - momentum) * running_var + momentum * var.flatten() * m / (m - 1)",
        "new tensors bound to the names instead of an update in place",
    ),
    Mutant(
        "bn_updated_in_eval",
        "batch_norm2d",
        "        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)\n",
        "        mean, var = running_mean.reshape(1, C, 1, 1).clone(), running_var.reshape(1, C, 1, 1).clone()\n"
        "        m = X.numel() // C\n"
        "        with torch.no_grad():\n"
        "            running_mean.copy_((1 - momentum) * running_mean + momentum * X.mean(dim=dims))\n"
        "            running_var.copy_((1 - momentum) * running_var + momentum * X.var(dim=dims))\n",
        "running statistics updated in eval mode too",
    ),
    Mutant(
        "bn_batch_stats_in_eval",
        "batch_norm2d",
        "        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)\n",
        "        mean, var = X.mean(dim=dims, keepdim=True), X.var(dim=dims, correction=0, keepdim=True)\n",
        "eval mode normalised with the batch's statistics",
    ),
    Mutant(
        "bn_wrong_axes",
        "batch_norm2d",
        "dims = (0, 2, 3)",
        "dims = (0, 1, 2, 3)",
        "one mean and variance for all channels",
    ),
    Mutant(
        "bn_per_image_stats",
        "batch_norm2d",
        "        mean = X.mean(dim=dims, keepdim=True)\n        var = X.var(dim=dims, correction=0, keepdim=True)\n",
        "        mean = X.mean(dim=(2, 3), keepdim=True)\n        var = X.var(dim=(2, 3), correction=0, keepdim=True)\n",
        "statistics per image (instance norm), the running update from the batch",
    ),
    Mutant(
        "bn_eps_outside_sqrt",
        "batch_norm2d",
        "(var + eps).sqrt()",
        "(var.sqrt() + eps)",
        "eps added after the square root",
    ),
    Mutant(
        "bn_momentum_reversed",
        "batch_norm2d",
        "            running_mean.copy_((1 - momentum) * running_mean + momentum * mean.flatten())\n"
        "            running_var.copy_((1 - momentum) * running_var + momentum * var.flatten() * m / (m - 1))",
        "            running_mean.copy_(momentum * running_mean + (1 - momentum) * mean.flatten())\n"
        "            running_var.copy_(momentum * running_var + (1 - momentum) * var.flatten() * m / (m - 1))",
        "momentum as the weight of the past, as an optimizer's",
    ),
    Mutant(
        "bn_gamma_beta_swapped",
        "batch_norm2d",
        "out = gamma.reshape(1, C, 1, 1) * (X - mean) / (var + eps).sqrt() + beta.reshape(1, C, 1, 1)",
        "out = beta.reshape(1, C, 1, 1) * (X - mean) / (var + eps).sqrt() + gamma.reshape(1, C, 1, 1)",
        "gamma and beta swapped",
    ),
    Mutant(
        "bn_float32_result",
        "batch_norm2d",
        "    return out.to(X.dtype)",
        "    return out.float()",
        "a float32 result whatever X's dtype",
    ),
    Mutant(
        "bn_no_shape_check",
        "batch_norm2d",
        "        if tuple(value.shape) != (C,):",
        "        if value.numel() != C:",
        "gamma, beta and the running statistics checked by size, not shape",
    ),
]
