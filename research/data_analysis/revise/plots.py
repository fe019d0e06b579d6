"""Matplotlib figures of a summary, saved as PNG files beside the HTML report (Agg backend, no display)."""

from __future__ import annotations

import os

import numpy as np

MAX_BARS = 30  # categories shown in bar charts and the co-occurrence heatmap (most frequent first)


def _figure(width: float = 7.0, height: float = 3.5, columns: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, plt.subplots(1, columns, figsize=(width, height))


def _save(plt, fig, out_dir: str, name: str) -> str:
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, name), dpi=80)
    plt.close(fig)
    return name


def category_counts(summary: dict, out_dir: str) -> str:
    rows = sorted(summary["objects"]["counts"], key=lambda r: -r["images"])[:MAX_BARS]
    plt, (fig, ax) = _figure()
    ax.bar([r["category"] for r in rows], [r["images"] for r in rows], color="#4c72b0")
    ax.set_ylabel("images")
    ax.set_title("Images per category")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    return _save(plt, fig, out_dir, "object_counts.png")


def cooccurrence(summary: dict, measurements: dict, out_dir: str) -> str:
    matrix = np.asarray(measurements["objects"]["cooccurrence"], float)
    names = summary["dataset"]["categories"]
    keep = np.argsort(-np.diag(matrix), kind="stable")[:MAX_BARS]
    diag = np.maximum(np.diag(matrix)[keep], 1)
    conditional = matrix[np.ix_(keep, keep)] / diag[:, None]  # row i: P(column j | row i)
    plt, (fig, ax) = _figure(6, 5)
    im = ax.imshow(conditional, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(keep)), [names[k] for k in keep], rotation=90, fontsize=7)
    ax.set_yticks(range(len(keep)), [names[k] for k in keep], fontsize=7)
    ax.set_title("P(column category | row category), per image")
    fig.colorbar(im, ax=ax)
    return _save(plt, fig, out_dir, "object_cooccurrence.png")


def geometry(measurements: dict, out_dir: str) -> str:
    inst = np.asarray(measurements["objects"]["instances"], float).reshape(-1, 4)
    names = measurements["dataset"]["categories"]
    present = [c for c in np.argsort(-np.bincount(inst[:, 0].astype(int), minlength=len(names)), kind="stable")
               if (inst[:, 0] == c).any()][:MAX_BARS]
    plt, (fig, axes) = _figure(9, 3.5, columns=2)
    for ax, col, title in ((axes[0], 1, "box area (fraction of image)"), (axes[1], 2, "centre distance from (0.5, 0.5)")):
        ax.boxplot([inst[inst[:, 0] == c, col] for c in present])
        ax.set_xticks(range(1, len(present) + 1), [names[c] for c in present], rotation=60, fontsize=7)
        ax.set_title(title)
    return _save(plt, fig, out_dir, "object_geometry.png")


def attribute_shares(summary: dict, out_dir: str) -> str:
    att = summary["attributes"]
    rows = att["categories"][:MAX_BARS]
    plt, (fig, ax) = _figure()
    ax.bar([r["category"] for r in rows], [r["share"] for r in rows], color="#dd8452")
    if rows:
        ax.axhline(rows[0]["prior"], color="k", linestyle="--", label="dataset share")
        ax.legend()
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"share '{att['attribute_names'][0]}'")
    ax.set_title(f"Share of '{att['attribute_names'][0]}' among annotated images per category")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    return _save(plt, fig, out_dir, "attribute_shares.png")


def geography(summary: dict, out_dir: str) -> str:
    geo = summary["geography"]
    plt, (fig, axes) = _figure(9, 3.5, columns=2)
    for ax, key in zip(axes, ("countries", "subregions"), strict=True):
        items = sorted(geo[key].items(), key=lambda kv: -kv[1])[:MAX_BARS]
        ax.bar([k for k, _ in items], [v for _, v in items], color="#55a868")
        ax.set_title(f"Images per {key[:-1] if key == 'subregions' else 'country'}")
        ax.tick_params(axis="x", rotation=60, labelsize=7)
    return _save(plt, fig, out_dir, "geography.png")


def all_plots(summary: dict, measurements: dict, out_dir: str) -> dict[str, str]:
    """Every figure the summary supports; returns {section: file name relative to out_dir}."""
    figures = {"counts": category_counts(summary, out_dir),
               "cooccurrence": cooccurrence(summary, measurements, out_dir),
               "geometry": geometry(measurements, out_dir)}
    if "attributes" in summary:
        figures["attributes"] = attribute_shares(summary, out_dir)
    if "geography" in summary:
        figures["geography"] = geography(summary, out_dir)
    return figures
