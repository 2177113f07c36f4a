"""The processes a run trains in: one, or ``WORLD_SIZE`` started by ``torchrun`` (process group, device, DDP
wrapping, sums and broadcasts between them); apart from the loop, which reads the same for one process or many.
"""
import os

import torch

from signflow.errors import UserError


class Processes:
    """Single process, or one of ``WORLD_SIZE`` processes started by torchrun (gloo on CPU, NCCL on CUDA)."""

    def __init__(self, device="cpu"):
        try:
            self.world = int(os.environ.get("WORLD_SIZE") or 1)
        except ValueError:
            raise UserError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number; launch with torchrun")
        self.rank, self.owned = 0, False
        self.device = torch.device(device)
        if self.world > 1:
            import torch.distributed as dist

            if self.device.type == "cuda" and self.device.index is None:  # one GPU per process
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK") or 0))
            if not dist.is_initialized():
                try:  # rendezvous from torchrun's MASTER_ADDR, MASTER_PORT and RANK
                    dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
                except (ValueError, RuntimeError) as err:
                    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                    raise UserError(f"cannot join the process group (WORLD_SIZE={self.world}): {first}; "
                                    "launch with torchrun")
                self.owned = True
            self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @property
    def main(self):
        return self.rank == 0

    def wrap(self, model):
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        # Plain BatchNorm, no SyncBatchNorm: each process normalizes with the
        # statistics of its own (smaller) batch and DDP copies rank 0's running
        # statistics to the others at every forward. So the batch statistics,
        # and hence the gradients and results, differ slightly from a single
        # process training with a batch of batch_size x world_size samples.
        return DistributedDataParallel(model, device_ids=[self.device] if self.device.type == "cuda" else None)

    def sum(self, values):
        """Element-wise sum of a list of numbers over all processes (floats)."""
        if self.world == 1:
            return [float(v) for v in values]
        import torch.distributed as dist

        total = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.tolist()

    def share_buffers(self, model):
        """Give every process rank 0's buffers (BatchNorm running stats), i.e. the model rank 0 saves."""
        if self.world > 1:
            import torch.distributed as dist

            for buffer in model.buffers():
                dist.broadcast(buffer, 0)

    def barrier(self):
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def stop(self):
        if self.owned:
            import torch.distributed as dist

            dist.destroy_process_group()
            self.owned = False
