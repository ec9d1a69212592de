"""Where the encoder runs: a GPU when present, else the CPU; AL_DEVICE forces either, refused in one line when wrong."""

from __future__ import annotations

import pytest

from al_core.errors import ConfigError
from al_core.learning import devices


@pytest.mark.parametrize(
    ("requested", "cuda", "chosen"),
    [(None, True, "cuda"), (None, False, "cpu"), ("cpu", True, "cpu"), ("cpu", False, "cpu"), ("cuda", True, "cuda")],
)
def test_the_gpu_when_present_else_the_cpu_unless_forced(requested, cuda, chosen):
    assert devices.choose_device(requested, cuda) == chosen


def test_cuda_without_a_gpu_is_refused_in_one_line():
    with pytest.raises(
        ConfigError, match=r"^AL_DEVICE=cuda, but PyTorch sees no CUDA GPU on this machine\. Set "
    ) as err:
        devices.choose_device("cuda", False)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("raw", "read"), [("", None), ("  ", None), ("cpu", "cpu"), (" CUDA ", "cuda")])
def test_the_variable_is_read_and_normalized(raw, read, monkeypatch):
    monkeypatch.setenv("AL_DEVICE", raw)
    assert devices.requested_device() == read


def test_a_bad_value_is_refused_in_one_line_without_torch(monkeypatch):
    monkeypatch.setenv("AL_DEVICE", "gpu")
    message = (
        r"^AL_DEVICE must be one of \['cpu', 'cuda'\] \(or unset: a GPU when one is present\)\. Got 'gpu' instead\.$"
    )
    with pytest.raises(ConfigError, match=message):
        devices.requested_device()
    with pytest.raises(ConfigError, match=message):
        devices.encoder_device(lambda: True)


def test_encoder_device_asks_the_driver_only_when_it_must(monkeypatch):
    def no_driver() -> bool:
        raise AssertionError("the driver was asked")

    monkeypatch.setenv("AL_DEVICE", "cpu")
    assert devices.encoder_device(no_driver) == "cpu"
    monkeypatch.delenv("AL_DEVICE")
    assert devices.encoder_device(lambda: False) == "cpu"
    assert devices.encoder_device(lambda: True) == "cuda"
    monkeypatch.setenv("AL_DEVICE", "cuda")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        devices.encoder_device(lambda: False)


def test_this_machine_loads_the_encoder_on_the_device_chosen(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("AL_DEVICE", raising=False)
    assert devices.encoder_device() == ("cuda" if torch.cuda.is_available() else "cpu")
