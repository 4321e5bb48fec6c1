import torch

# As in the app: these small models run fastest on one thread, and don't stall when the
# machine is busy (two spinning OpenMP threads on a loaded 2-core box cost up to 50x).
torch.set_num_threads(1)
