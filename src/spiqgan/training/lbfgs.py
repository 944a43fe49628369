"""L-BFGS in chunks of iterations that resume exactly: a long fit checkpoints part-way and continues bit for bit.

``torch.optim.LBFGS`` runs its iterations inside one ``step(closure)`` call and keeps its history
(directions, steps, curvatures) in the optimizer's state. :class:`ResumableLBFGS` calls ``step`` for
``chunk`` iterations at a time, with the iteration and evaluation budgets that remain of the whole
fit, and after each chunk applies the stopping rules that ``step`` skips when it stops at its
iteration limit (evaluations used, a step under ``tol``, a change of the objective under ``tol``).
The parameters it reaches are then the same, bit for bit, as those of one ``step`` call with the
whole budget (tested), and between chunks its state (:meth:`ResumableLBFGS.state`) goes into a
checkpoint and comes back (:meth:`ResumableLBFGS.restore`) to continue the same way.

Each chunk after the first evaluates the objective at its start twice (once for the stopping rule,
once as ``step`` does); ``repeat`` tells the caller's closure that an evaluation repeats the last
one (same parameters, same value), so that per-evaluation records stay those of one call.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

__all__ = ["ResumableLBFGS"]

#: state entries of torch's L-BFGS that are lists of tensors (stacked for a checkpoint)
_LISTS = ("old_dirs", "old_stps", "ro")


class ResumableLBFGS:
    """``torch.optim.LBFGS`` (strong Wolfe line search) over ``params``, run in chunks (see the module docstring).

    It stops after ``max_iter`` iterations or ``max_eval`` evaluations, where a step or the objective's
    change falls under ``tol``, or where the largest gradient component falls to ``tol_grad``.
    """

    def __init__(self, params: list[torch.Tensor], *, max_iter: int, max_eval: int, tol: float,
                 history_size: int = 50, chunk: int = 20, tol_grad: float = 1e-12) -> None:
        self.params = list(params)
        self.max_iter, self.max_eval, self.tol, self.chunk = int(max_iter), int(max_eval), float(tol), int(chunk)
        self.opt = torch.optim.LBFGS(self.params, lr=1.0, max_iter=self.max_iter, max_eval=self.max_eval,
                                     tolerance_grad=float(tol_grad), tolerance_change=self.tol, history_size=history_size,
                                     line_search_fn="strong_wolfe")
        self.calls = 0  # step() calls so far
        self.done = False
        self.repeat = False  # True while the closure re-evaluates the point it evaluated last

    def _state(self) -> dict[str, Any]:
        return self.opt.state[self.opt._params[0]]

    @property
    def iterations(self) -> int:
        """L-BFGS iterations done so far (over every chunk, and before a restore)."""
        return int(self._state().get("n_iter", 0))

    def run(self, closure: Callable[[], torch.Tensor], on_chunk: Callable[["ResumableLBFGS"], None] | None = None
            ) -> None:
        """Iterate to the end of the budget or convergence; ``on_chunk(self)`` after every chunk that leaves work."""
        group = self.opt.param_groups[0]
        while not self.done:
            state = self._state()
            iters, evals = state.get("n_iter", 0), state.get("func_evals", 0)
            if self.calls:
                # the stopping rules that step() skips when it stops at its own iteration limit
                used = 1 + evals - self.calls  # evaluations one whole call would have counted
                if iters >= self.max_iter or used >= self.max_eval or \
                        float(state["d"].mul(state["t"]).abs().max()) <= self.tol:
                    self.done = True
                    break
                self.repeat = True
                loss = float(closure())
                if abs(loss - state["prev_loss"]) < self.tol:
                    self.repeat = False
                    self.done = True
                    break
                group["max_eval"] = self.max_eval - (evals - self.calls)
            group["max_iter"] = min(self.chunk, self.max_iter - iters)
            self.repeat = bool(self.calls)  # step()'s first evaluation repeats the last one
            self.opt.step(self._first_repeats(closure))
            self.calls += 1
            if self._state().get("n_iter", 0) - iters < group["max_iter"]:
                self.done = True  # stopped by one of its own rules (converged), not by the chunk's end
            elif on_chunk is not None:
                on_chunk(self)

    def _first_repeats(self, closure: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
        def wrapped() -> torch.Tensor:
            try:
                return closure()
            finally:
                self.repeat = False

        return wrapped

    # ------------------------------------------------------------ checkpoint
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """``(tensors, JSON-able metadata)``: everything :meth:`restore` needs to continue exactly."""
        state = self._state()
        tensors: dict[str, torch.Tensor] = {}
        meta: dict[str, Any] = {"calls": self.calls, "done": self.done}
        for key, value in state.items():
            if key == "al":
                continue  # scratch space of the two-loop recursion
            if key in _LISTS:
                meta[f"{key}_count"] = len(value)
                if value:
                    tensors[key] = torch.stack([torch.as_tensor(v) for v in value])
            elif torch.is_tensor(value):
                tensors[key] = value.detach().clone()
            else:
                meta[key] = value
        return tensors, meta

    def restore(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Continue from :meth:`state` (the parameters themselves are restored by the caller)."""
        state = self._state()
        state.clear()
        for key, value in meta.items():
            if key in ("calls", "done"):
                continue
            if key.endswith("_count") and key[:-6] in _LISTS:
                name = key[:-6]
                state[name] = list(tensors[name].unbind(0)) if value else []
            else:
                state[key] = value
        for key, value in tensors.items():
            if key not in _LISTS:
                state[key] = value.clone()
        self.calls, self.done = int(meta["calls"]), bool(meta["done"])
