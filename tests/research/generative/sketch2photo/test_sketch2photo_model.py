"""Card checks 1-3: the official parameter counts; shapes and ranges of G_A, its attention map and the
colouriser; the gate with a zeroed 1x1 conv (legacy: w = 1/32 at 128 px, the column softmax of constants;
channel: w = 0.5); and G_A equal to a torch build written from the card (tests/.../torch_sketch2photo.py:
CycleGAN's generator with x * (1 - w) after the encoder) with the same weights in both attention modes,
which shows that scaling by (1 - w) is the gate's only effect."""

import numpy as np
import torch

from official.core import registry
from official.vision.gan.patch_discriminator import PatchDiscriminator
from research.generative.sketch2photo import convert
from research.generative.sketch2photo.model import Sketch2PhotoGenerator, normalised_vgg
from tests.research.generative.sketch2photo.torch_sketch2photo import TorchGA


def test_official_parameter_counts():
    assert registry.create_model("sketch2photo_resnet9").trainable_parameter_count == 11_366_147
    assert Sketch2PhotoGenerator(attention="").trainable_parameter_count == 11_365_633  # G_B
    assert PatchDiscriminator(1, image_size=(128, 128)).trainable_parameter_count == 2_762_689
    assert PatchDiscriminator(3, image_size=(128, 128)).trainable_parameter_count == 2_764_737
    colorizer = registry.create_model("sketch2photo_colorizer")
    assert colorizer.trainable_parameter_count == 14_540_163
    assert colorizer.encoder.count_params() == 2_325_580 and not colorizer.encoder.trainable_weights


def test_shapes_ranges_and_zeroed_gate():
    rng = np.random.default_rng(0)
    g = Sketch2PhotoGenerator(filters=4, blocks=1, image_size=(128, 128))
    x = rng.uniform(-1, 1, (2, 128, 128, 1)).astype(np.float32)
    y = np.asarray(g(x))
    assert y.shape == (2, 128, 128, 1) and np.abs(y).max() <= 1.0
    w = np.asarray(g.attention_model()(x))
    assert w.shape == (2, 32, 32, 1) and w.min() >= 0 and w.max() <= 1
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)  # legacy: every column sums to 1
    logits = g.get_layer("attention").logits
    logits.set_weights([np.zeros_like(v) for v in logits.get_weights()])
    np.testing.assert_allclose(np.asarray(g.attention_model()(x)), 1 / 32, atol=1e-7)
    c = Sketch2PhotoGenerator(filters=4, blocks=1, image_size=(128, 128), attention="channel")
    c.get_layer("attention").logits.set_weights([np.zeros_like(v) for v in logits.get_weights()])
    np.testing.assert_allclose(np.asarray(c.attention_model()(x)), 0.5, atol=1e-7)
    colorizer = registry.create_model("sketch2photo_colorizer_tiny")
    out = np.asarray(colorizer(rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)))
    assert out.shape == (1, 32, 32, 3) and np.abs(out).max() <= 1.0
    assert [t.shape for t in normalised_vgg((32, 32))(np.zeros((1, 32, 32, 3)))] == [
        (1, 32, 32, 64), (1, 16, 16, 128), (1, 8, 8, 256), (1, 8, 8, 256)]


def test_equals_torch_build_through_the_converter():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    for legacy in (True, False):
        torch.manual_seed(0)
        reference = TorchGA(f=4, blocks=2, legacy=legacy).double().eval()
        with torch.no_grad():
            for p in reference.parameters():
                p.normal_(0, 0.3)
        state = reference.state_dict()
        kwargs = convert.infer_model_kwargs(state)
        assert kwargs == {"filters": 4, "input_channels": 1, "blocks": 2, "downsamplings": 2, "output_channels": 1}
        model = Sketch2PhotoGenerator(**kwargs, image_size=(32, 32), attention="height_legacy" if legacy else "channel")
        report = convert.load_state_dict(model, state)
        assert len(report.assigned) == len(state)
        want = reference(torch.tensor(np.transpose(x, (0, 3, 1, 2))).double()).detach().numpy()
        np.testing.assert_allclose(np.asarray(model(x)), np.transpose(want, (0, 2, 3, 1)), atol=1e-4)


def test_convert_checkpoint_cli_path(tmp_path):
    """tools.convert_checkpoint on .pth files with the official keys: G_A (attention found by shape) and a G_B
    file (no attention conv: the model is built without the gate); a missing tensor is a one-line error."""
    import keras
    import pytest

    from official.core.checkpoint_convert import ConversionError
    from tools import convert_checkpoint

    x = np.random.default_rng(2).uniform(-1, 1, (1, 32, 32, 1)).astype(np.float32)
    for attention in (True, False):
        torch.manual_seed(1)
        reference = TorchGA(f=8, blocks=2, attention=attention).eval()
        src = str(tmp_path / f"g_{attention}.pth")
        torch.save(reference.state_dict(), src)
        dst = str(tmp_path / f"out_{attention}")
        result = convert_checkpoint.convert("pytorch", "sketch2photo_tiny", src, dst)
        assert result["tensors"] == len(reference.state_dict())
        model = keras.saving.load_model(result["outputs"]["model.keras"])
        assert ("attention" in [layer.name for layer in model.layers]) == attention
        want = reference(torch.tensor(np.transpose(x, (0, 3, 1, 2)))).detach().numpy()
        np.testing.assert_allclose(np.asarray(model(x)), np.transpose(want, (0, 2, 3, 1)), atol=1e-4)
    state = TorchGA(f=8, blocks=2).state_dict()
    del state["model.11.conv_block.5.bias"]
    torch.save(state, str(tmp_path / "broken.pth"))
    with pytest.raises(ConversionError, match="model.11.conv_block.5.bias"):
        convert_checkpoint.convert("pytorch", "sketch2photo_tiny", str(tmp_path / "broken.pth"), str(tmp_path / "x"))


def test_stage2_files_convert_through_the_cli(tmp_path):
    """Stage 2: step 2's G_A (AdaIN_Net keys enc_1..enc_4 + decoder.N) gives the torch build's output; AdaIN's
    bare vgg_normalised.pth gives a `vgg_weights` file (relu4_1 and deeper skipped) whose relu3_4 maps equal
    torch's; a stage-1 file for the colouriser and a missing tensor (either file) are one-line errors."""
    import keras
    import pytest

    from official.core.checkpoint_convert import ConversionError
    from tests.research.generative.sketch2photo.torch_sketch2photo import TorchColorizer, adain_vgg
    from tools import convert_checkpoint

    x = np.random.default_rng(3).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    x_torch = torch.tensor(np.transpose(x, (0, 3, 1, 2)))
    torch.manual_seed(2)
    reference = TorchColorizer(blocks=1).eval()
    torch.save(reference.state_dict(), str(tmp_path / "g_a.pth"))
    result = convert_checkpoint.convert("pytorch", "sketch2photo_colorizer_tiny", str(tmp_path / "g_a.pth"),
                                        str(tmp_path / "colorizer"))
    assert result["tensors"] == len(reference.state_dict())
    model = keras.saving.load_model(result["outputs"]["model.keras"])
    with torch.no_grad():
        want = reference(x_torch).numpy()
    # 5e-4: torch's own float32 output is 1.5e-4 from its float64 one here (instance norm on 8x8 maps)
    np.testing.assert_allclose(np.asarray(model(x)), np.transpose(want, (0, 2, 3, 1)), atol=5e-4)

    vgg = adain_vgg(deeper=True).eval()
    torch.save(vgg.state_dict(), str(tmp_path / "vgg_normalised.pth"))
    result = convert_checkpoint.convert("pytorch", "sketch2photo_colorizer_tiny", str(tmp_path / "vgg_normalised.pth"),
                                        str(tmp_path / "vgg"))
    assert (result["tensors"], result["skipped"]) == (18, 2)  # 9 convs; the relu4_1 conv's weight and bias
    colorizer = registry.create_model("sketch2photo_colorizer_tiny", vgg_weights=result["outputs"]["model.weights.h5"])
    with torch.no_grad():
        want = vgg[:27](x_torch).numpy()
    np.testing.assert_allclose(np.asarray(colorizer.encoder(x)[-1]), np.transpose(want, (0, 2, 3, 1)), atol=1e-4)

    state = vgg.state_dict()
    del state["25.bias"]  # conv3_4's
    torch.save(state, str(tmp_path / "vgg_broken.pth"))
    with pytest.raises(ConversionError, match="'25.bias'"):
        convert_checkpoint.convert("pytorch", "sketch2photo_colorizer_tiny", str(tmp_path / "vgg_broken.pth"),
                                   str(tmp_path / "z"))
    torch.save(TorchGA(f=8, blocks=2).state_dict(), str(tmp_path / "stage1.pth"))
    with pytest.raises(ConversionError, match="no 'enc_1.0.weight'"):
        convert_checkpoint.convert("pytorch", "sketch2photo_colorizer_tiny", str(tmp_path / "stage1.pth"),
                                   str(tmp_path / "x"))
    state = reference.state_dict()
    del state["decoder.1.weight"]
    torch.save(state, str(tmp_path / "broken.pth"))
    with pytest.raises(ConversionError, match="decoder.1.weight"):
        convert_checkpoint.convert("pytorch", "sketch2photo_colorizer_tiny", str(tmp_path / "broken.pth"),
                                   str(tmp_path / "y"))
