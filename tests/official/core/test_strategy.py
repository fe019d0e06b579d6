"""Which tf.distribute strategy a run gets from `runtime.strategy`."""

import pytest
import tensorflow as tf

from official.core import strategy as strategy_lib
from official.core.config import ConfigError


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="a GPU host gets OneDeviceStrategy")
def test_auto_on_a_cpu_host_is_the_default_strategy_and_one_device_stays_available():
    """On CPU, Keras' fit under OneDeviceStrategy ran steps at half speed (strategy.py says why)."""
    auto = strategy_lib.create_strategy("auto")
    assert auto is tf.distribute.get_strategy() and auto.num_replicas_in_sync == 1
    assert strategy_lib.describe(auto) == "default (one device, no tf.distribute wrapper)"
    one = strategy_lib.create_strategy("one_device")
    assert isinstance(one, tf.distribute.OneDeviceStrategy)
    assert strategy_lib.describe(one) == "OneDeviceStrategy"
    with pytest.raises(ConfigError, match="runtime.strategy"):
        strategy_lib.create_strategy("tpu")
