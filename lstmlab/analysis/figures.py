"""The figures of `lstmlab analyze`: the state space in its top three principal components, and the
eigenvalue spectra at the fixed points against the unit circle."""

import matplotlib

matplotlib.use("Agg")  # headless: runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STABLE, UNSTABLE = "C0", "C3"


def principal_axes(states, count: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(centre (d,), axes (count, d)) of states (n, d); axes beyond d are zeros."""
    centre = states.mean(axis=0)
    _, _, vt = np.linalg.svd(states - centre, full_matrices=False)
    axes = np.zeros((count, states.shape[1]))
    axes[: min(count, len(vt))] = vt[:count]
    return centre, axes


def draw_dynamics(trajectories, points, stable, path, title: str, shown: int = 40) -> None:
    """trajectories (B, T + 1, d) and fixed points (K, d) with stable (K,) in the trajectories' top 3 PCs."""
    b, t, d = trajectories.shape
    centre, axes = principal_axes(trajectories.reshape(b * t, d))
    fig = plt.figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    for path_states in trajectories[:shown]:
        x, y, z = ((path_states - centre) @ axes.T).T
        ax.plot(x, y, z, color="grey", alpha=0.35, linewidth=0.8)
        ax.scatter(x[-1], y[-1], z[-1], color="grey", s=6)  # where the sequence ended
    if len(points):
        x, y, z = ((points - centre) @ axes.T).T
        for mask, colour, label in ((stable, STABLE, "stable"), (~stable, UNSTABLE, "unstable")):
            if mask.any():
                ax.scatter(x[mask], y[mask], z[mask], color=colour, s=18, depthshade=False,
                           label=f"{label} ({int(mask.sum())})")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_zlabel("PC 3")
    ax.set_title(title, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_spectra(eigenvalues, stable, path, title: str) -> None:
    """Every point's eigenvalues (K, d) in the complex plane, coloured by its stability, and the unit circle."""
    fig, (whole, near) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
    angle = np.linspace(0, 2 * np.pi, 400)
    for ax in (whole, near):
        ax.plot(np.cos(angle), np.sin(angle), color="black", linewidth=0.8)
        for mask, colour, label in ((stable, STABLE, "at stable points"), (~stable, UNSTABLE, "at unstable points")):
            if mask.any():
                values = eigenvalues[mask].ravel()
                ax.scatter(values.real, values.imag, color=colour, s=8, alpha=0.4, label=label)
        ax.set_aspect("equal")
        ax.set_xlabel("Re λ")
        ax.set_ylabel("Im λ")
    largest = float(np.max(eigenvalues.real)) if eigenvalues.size else 1.0
    near.set_xlim(0.8, max(1.05, largest + 0.02))
    near.set_ylim(-0.125, 0.125)
    near.set_title("near λ = 1 (slow modes)", fontsize=9)
    whole.set_title(title, fontsize=9)
    if len(eigenvalues):
        whole.legend(loc="lower left", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
