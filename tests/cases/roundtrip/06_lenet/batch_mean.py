# averages the batches' mean losses (a short last batch counts as much as a full one): the hidden
# reference comparison fails (2 points); everything visible passes: 14
# points: 14
# solved: build_lenet optimizer_steps
# %% cell evaluate_accuracy
def evaluate_accuracy(net, loader):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in loader:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total

def train_epoch(net, loader, loss_fn, optimizer):
    net.train()
    losses, correct, total = [], 0, 0
    for X, y in loader:
        scores = net(X)
        loss = loss_fn(scores, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        correct += int((scores.argmax(dim=1) == y).sum())
        total += len(y)
    return sum(losses) / len(losses), correct / total
