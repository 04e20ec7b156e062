# second conv of the ReLU LeNet is 5x5 instead of 3x3: its flatten no longer gives 1250 features, so its
# visible test (1) and its layer-by-layer test (1) fail; the training run uses a network of its own: 14
# points: 14
# solved: evaluate_accuracy optimizer_steps
# %% cell build_lenet
def build_lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))

def build_lenet_relu():
    return nn.Sequential(
        nn.Conv2d(1, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(1250, 128), nn.ReLU(), nn.Linear(128, 10))
