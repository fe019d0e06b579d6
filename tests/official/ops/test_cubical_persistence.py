"""Cubical persistence equals gudhi's CubicalComplex (values and multiplicities) and tcripser's T-construction
(values and critical pixels) on random images and edge cases; known topology of rings."""

import gudhi  # noqa: E402  required (pyproject dev extra): a missing install fails, never skips
import numpy as np
import pytest

from official.ops.cubical_persistence import betti_numbers, cubical_persistence


def _gudhi_diagrams(image):
    complex_ = gudhi.CubicalComplex(top_dimensional_cells=image)
    complex_.persistence()
    return {d: np.array(sorted(map(tuple, complex_.persistence_intervals_in_dimension(d)))).reshape(-1, 2)
            for d in (0, 1)}


def _sorted_points(diagram):
    return np.array(sorted(map(tuple, diagram.points))).reshape(-1, 2)


def _cases():
    rng = np.random.default_rng(0)
    yield "single pixel", np.array([[0.3]])
    yield "row", rng.random((1, 7))
    yield "column", rng.random((6, 1))
    yield "constant", np.full((5, 4), 2.0)
    checker = (np.indices((8, 8)).sum(0) % 2).astype(float)
    yield "checkerboard", checker
    yield "inverted checkerboard", -checker
    for size in [(7, 9), (16, 16), (32, 32), (13, 20)]:
        yield f"random {size}", rng.random(size)
    for size in [(6, 6), (16, 16), (31, 17)]:
        yield f"ties {size}", rng.integers(0, 3, size).astype(float)
    from scipy.ndimage import distance_transform_edt

    yield "distance transform", distance_transform_edt(rng.random((32, 32)) > 0.3)


@pytest.mark.parametrize("name,image", list(_cases()), ids=[n for n, _ in _cases()])
def test_diagrams_equal_gudhi(name, image):
    ours, ref = cubical_persistence(image), _gudhi_diagrams(image)
    for dim in (0, 1):
        np.testing.assert_array_equal(_sorted_points(ours[dim]), ref[dim], err_msg=f"{name} dim {dim}")


def test_values_and_critical_pixels_equal_tcripser():
    import tcripser  # required (the cripser dev extra ships it); cripser's T-construction (cripser.computePH(top_dim=True) is not)
    rng = np.random.default_rng(3)
    for shape in [(9, 11), (24, 24)]:
        image = rng.random(shape)  # distinct values: the critical pixels are unique
        ours = cubical_persistence(image)
        ref = tcripser.computePH(image, maxdim=1)
        width = shape[1]
        for dim in (0, 1):
            rows = ref[ref[:, 0] == dim]
            essential = rows[:, 2] > 1e300
            expected = sorted(
                (b, np.inf if e else d, int(r0 * width + c0), -1 if e else int(r1 * width + c1))
                for b, d, r0, c0, r1, c1, e in zip(rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 6],
                                                   rows[:, 7], essential, strict=False))
            got = sorted(zip(ours[dim].birth, ours[dim].death, ours[dim].birth_pixel.tolist(),
                             ours[dim].death_pixel.tolist(), strict=False))
            assert got == expected, f"{shape} dim {dim}"


def test_critical_pixels_hold_the_values():
    image = np.random.default_rng(4).random((12, 12))
    for diagram in cubical_persistence(image).values():
        finite = diagram.death_pixel >= 0
        np.testing.assert_array_equal(image.ravel()[diagram.birth_pixel], diagram.birth)
        np.testing.assert_array_equal(image.ravel()[diagram.death_pixel[finite]], diagram.death[finite])


def _ring_image(size=64):
    yy, xx = np.mgrid[:size, :size] - size / 2 + 0.5
    radius = np.hypot(yy, xx)
    image = np.ones((size, size))
    for r in (8, 14, 20):  # dark rings about 2 px wide: the "membranes"
        image[np.abs(radius - r) < 1.0] = 0.0
    return image


def _edt_loops(image):
    from scipy.ndimage import distance_transform_edt

    dist = distance_transform_edt(image > 0.5)  # distance of each white pixel to the nearest membrane
    one = cubical_persistence(dist, (1,))[1]
    np.testing.assert_array_equal(_sorted_points(one), _gudhi_diagrams(dist)[1])
    return one.points


def test_known_topology_of_rings_in_the_distance_transform():
    # spec check 3 (our geometry): closed membranes give loops born at 0, one per enclosed region
    loops = _edt_loops(_ring_image())
    assert np.sum(loops[:, 0] == 0.0) == 3  # the rest are distance-transform ridges, born later


def test_cutting_a_gap_moves_the_birth_to_half_the_gap_width():
    image = _ring_image()
    yy, xx = np.mgrid[:64, :64] - 31.5
    image[(np.abs(xx) < 2) & (yy < 0) & (np.abs(np.hypot(yy, xx) - 20) < 1.5)] = 1.0  # 4 px gap, outer ring
    loops, closed = _edt_loops(image), _edt_loops(_ring_image())
    assert np.sum(loops[:, 0] == 0.0) == 2
    # one more loop born at 2.0: the cut annulus now closes when the gap does, at half its width
    assert np.sum(loops[:, 0] == 2.0) == np.sum(closed[:, 0] == 2.0) + 1


def test_betti_numbers_of_rings():
    image = _ring_image()
    diagrams = cubical_persistence(image)
    assert betti_numbers(diagrams, 0.5) == {0: 3, 1: 3}  # three rings, each one loop
    assert betti_numbers(diagrams, 1.0) == {0: 1, 1: 0}  # everything: a disk


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="2D"):
        cubical_persistence(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        cubical_persistence(np.array([[0.0, np.nan]]))
