"""Truncated backpropagation through time (TBPTT): which steps of a sequence each update sees.

The algorithm, as lstmlab runs it: a sequence of T steps falls into chunks of k steps counted from
its start (the last chunk is shorter when k does not divide T). The chunks are processed in order;
the recurrent state is carried from one chunk to the next with its gradient stopped, and the
parameters are updated after every chunk that has a loss:

    final-step target   only the last chunk has a loss: the chunks before it are run forward only
                        (no gradient, nothing stored for a backward pass), then one update.
    per-step targets    every chunk has a loss: one update per chunk, ceil(T / k) per batch, each
                        chunk run with the parameters the previous update left.

k >= T (or k = 0) is one chunk holding the whole sequence: full BPTT.

Example: T = 25, k = 10 gives chunks [0, 10) [10, 20) [20, 25). A final-step target runs [0, 20)
forward and backpropagates through the last 5 steps only, which is why k = 5 and k = 10 train
identically at T = 25.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkPlan:
    """How one batch of sequences of `seq_len` steps is cut for TBPTT with chunks of `chunk` steps."""

    seq_len: int
    chunk: int  # steps per chunk; seq_len for full BPTT
    per_step: bool  # per-step targets (a loss in every chunk) or a final-step target

    @classmethod
    def create(cls, seq_len: int, tbptt: int, per_step: bool) -> "ChunkPlan":
        """`tbptt` as in TrainConfig: 0 or >= seq_len means full BPTT."""
        chunk = tbptt if 0 < tbptt < seq_len else seq_len
        return cls(seq_len, chunk, per_step)

    @property
    def spans(self) -> list[tuple[int, int]]:
        """(start, stop) of every chunk, in order."""
        return [(start, min(start + self.chunk, self.seq_len)) for start in range(0, self.seq_len, self.chunk)]

    @property
    def forward_only(self) -> int:
        """Steps run forward only before the first update: all but the last chunk for a final-step target."""
        return 0 if self.per_step else self.spans[-1][0]

    @property
    def backprop_steps(self) -> int:
        """The most steps one update's gradient reaches back through: the last chunk's length for a
        final-step target, the chunk length for per-step targets."""
        return self.chunk if self.per_step else self.seq_len - self.forward_only

    @property
    def updates_per_batch(self) -> int:
        return len(self.spans) if self.per_step else 1
