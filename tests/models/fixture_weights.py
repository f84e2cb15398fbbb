"""The weights every model fixture of ../shared/fixtures was computed with (its README)."""
import torch


def set_fixture_weights(model: torch.nn.Module) -> None:
    """State-dict keys sorted by name, one generator seeded 0: ``running_var`` from U(0.5, 1.5), every
    other floating entry from N(0, 0.1^2); integer entries (``num_batches_tracked``) untouched."""
    g = torch.Generator().manual_seed(0)
    state = model.state_dict()
    new = {}
    for name in sorted(state):
        value = state[name]
        if not value.is_floating_point():
            continue
        if name.endswith('running_var'):
            new[name] = torch.rand(value.shape, generator=g) + 0.5
        else:
            new[name] = torch.randn(value.shape, generator=g) * 0.1
    model.load_state_dict(new, strict=False)
