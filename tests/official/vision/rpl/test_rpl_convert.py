"""RPL converter (METHOD_CONTRACT item 8): ARPL's two state dicts (net and RPLoss criterion, official key
names and shapes, DataParallel's "module." prefix) convert through tools.convert_checkpoint, and the
converted model gives the distances, score and RPLoss of a torch.nn.functional forward on the same tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from official.core.checkpoint_convert import ConversionError
from official.vision.backbones.classifier32 import CLASSIFIER32_STRIDED, CLASSIFIER32_WIDTHS
from official.vision.rpl.model import RPLNet
from tools.convert_checkpoint import convert


def _official_state(k: int, seed: int = 0):
    """The net's state dict as ARPL's classifier32 holds it (bn10 and fc included) and RPLoss's."""
    g = torch.Generator().manual_seed(seed)
    net, cin = {}, 3
    for i, width in enumerate(CLASSIFIER32_WIDTHS, start=1):
        net[f"conv{i}.weight"] = torch.randn(width, cin, 3, 3, generator=g) / (9 * cin) ** 0.5  # unit gain
        cin = width
    for i, width in enumerate((*CLASSIFIER32_WIDTHS, 128), start=1):  # bn1..bn10
        net[f"bn{i}.weight"] = 1 + 0.1 * torch.randn(width, generator=g)
        net[f"bn{i}.bias"] = 0.5 * torch.randn(width, generator=g)
        net[f"bn{i}.running_mean"] = 0.1 * torch.randn(width, generator=g)
        net[f"bn{i}.running_var"] = 0.5 + torch.rand(width, generator=g)
        net[f"bn{i}.num_batches_tracked"] = torch.tensor(7)
    net["fc.weight"] = torch.randn(k, 128, generator=g)
    criterion = {"radius": torch.tensor([0.3]), "Dist.centers": torch.randn(k, 128, generator=g)}  # spread: scores far from 1 / K
    return net, criterion


def _torch_forward(net, criterion, x, labels):
    """classifier32 in eval mode with F.* ops, then RPLoss: (distances, max softmax, loss)."""
    h = x
    for i in range(1, 10):
        h = F.conv2d(h, net[f"conv{i}.weight"], stride=2 if i in CLASSIFIER32_STRIDED else 1, padding=1)
        h = F.batch_norm(h, net[f"bn{i}.running_mean"], net[f"bn{i}.running_var"], net[f"bn{i}.weight"],
                         net[f"bn{i}.bias"], training=False, eps=1e-5)
        h = F.leaky_relu(h, 0.2)
    f = h.mean((2, 3))
    p = criterion["Dist.centers"]
    d = ((f[:, None, :] - p[None]) ** 2).mean(-1)
    loss = F.cross_entropy(d, labels) + 0.1 * F.mse_loss(((f - p[labels]) ** 2).mean(1), criterion["radius"].expand(len(f)))
    return d.numpy(), F.softmax(d, 1).max(1).values.numpy(), float(loss)


def test_official_state_dicts_convert_and_match_a_torch_forward(tmp_path):
    net, criterion = _official_state(6)
    assert sum(v.numel() for k, v in net.items() if "running" not in k and "num_batches" not in k) == 1_000_128
    assert sum(v.numel() for v in criterion.values()) == 769  # spec card check 1, the PyTorch side
    # save_networks' names; DataParallel prefixes the net's keys
    torch.save({f"module.{k}": v for k, v in net.items()}, tmp_path / "classifier32_RPLoss_0_False_.pth")
    torch.save(criterion, tmp_path / "classifier32_RPLoss_0_False__criterion.pth")
    result = convert("pytorch", "rpl_classifier32", str(tmp_path / "classifier32_RPLoss_0_False_.pth"),
                     str(tmp_path / "out"))
    assert result["tensors"] == 9 + 9 * 4 + 2
    assert result["skipped"] == 1 + 10 + 4  # fc.weight, bn10.* (4 tensors), num_batches_tracked x 10
    model = RPLNet(classes=6)
    model.load_weights(result["outputs"]["model.weights.h5"])
    # ours + the skipped fc (768) and bn10 (256) = the PyTorch module's count
    assert model.trainable_parameter_count + 768 + 256 == 1_000_128 + 769

    x = np.random.default_rng(0).uniform(size=(3, 32, 32, 3)).astype("float32")
    labels = np.array([0, 5, 2])
    d, score, loss = _torch_forward(net, criterion, torch.from_numpy(x.transpose(0, 3, 1, 2)), torch.from_numpy(labels))
    out = model(x, training=False)
    np.testing.assert_allclose(np.asarray(out["logits"]), d, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(out["score"]), score, atol=1e-5)
    ours = float(model.compute_loss(x, labels, out))
    np.testing.assert_allclose(ours, loss, rtol=1e-4)


def test_criterion_file_is_found_from_either_side_or_named_and_missing_one_is_a_one_line_error(tmp_path):
    net, criterion = _official_state(4, seed=1)
    torch.save(net, tmp_path / "n.pth")
    with pytest.raises(ConversionError, match=r"n_criterion\.pth does not exist"):
        convert("pytorch", "rpl_classifier32_cifar_plus", str(tmp_path / "n.pth"), str(tmp_path / "o"))
    torch.save(criterion, tmp_path / "crit.pth")
    result = convert("pytorch", "rpl_classifier32_cifar_plus", str(tmp_path / "n.pth"), str(tmp_path / "o"),
                     model_args=f"criterion={tmp_path / 'crit.pth'}")
    assert result["tensors"] == 47
    torch.save(criterion, tmp_path / "n_criterion.pth")
    result = convert("pytorch", "rpl_classifier32_cifar_plus", str(tmp_path / "n_criterion.pth"), str(tmp_path / "o2"))
    model = RPLNet(classes=4)
    model.load_weights(result["outputs"]["model.weights.h5"])
    np.testing.assert_array_equal(np.asarray(model.reciprocal_points.points), criterion["Dist.centers"].numpy())
    np.testing.assert_array_equal(np.asarray(model.get_layer("conv2").kernel),
                                  net["conv2.weight"].numpy().transpose(2, 3, 1, 0))
    del net["bn4.running_var"]
    torch.save(net, tmp_path / "n.pth")
    with pytest.raises(ConversionError, match=r"checkpoint has no 'bn4\.running_var'") as err:
        convert("pytorch", "rpl_classifier32_cifar_plus", str(tmp_path / "n.pth"), str(tmp_path / "o3"))
    assert "\n" not in str(err.value)
