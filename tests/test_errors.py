import pytest

from nasbench_sim.errors import (
    ConfigError,
    DataFileNotFoundError,
    DataFormatError,
    MissingDataError,
    MissingRepeatError,
    NasbenchSimError,
    OutOfDomainError,
)


def test_out_of_domain_error_is_an_exception_like_the_official_one_not_a_value_error():
    # Regression: it derived from ValueError, so `except ValueError` (meant for bad arguments) swallowed it.
    assert [c.__name__ for c in OutOfDomainError.__mro__] == [
        "OutOfDomainError",
        "NasbenchSimError",
        "Exception",
        "BaseException",
        "object",
    ]
    with pytest.raises(OutOfDomainError):
        try:
            raise OutOfDomainError("too many vertices")
        except ValueError:
            pytest.fail("except ValueError caught a domain error")


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (MissingDataError("no data for cell x", "x"), KeyError),
        (MissingRepeatError("repeat 2 is not in the table"), IndexError),
        (DataFileNotFoundError(2, "no such file", "x.tfrecord"), FileNotFoundError),
        (DataFormatError("corrupt"), ValueError),
        (ConfigError("unknown table"), ValueError),
    ],
)
def test_every_error_is_ours_and_the_builtin_the_official_api_raises(error, builtin):
    # An `except KeyError` written for the official API still catches MissingDataError, and so on.
    assert isinstance(error, NasbenchSimError) and isinstance(error, builtin)


def test_missing_data_error_prints_its_message_not_a_repr():
    error = MissingDataError("no data for cell 'abc': the file covers 22 of 423,624 cells", "abc")
    assert str(error) == "no data for cell 'abc': the file covers 22 of 423,624 cells" and error.key == "abc"
