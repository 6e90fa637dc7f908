"""The errors of the sealed format, one per failing layer (docs/format.md §10)."""


class CryptoError(ValueError):
    """The sealed data could not be opened."""

    expect = "error"


class MalformedHeader(CryptoError):
    """The header is not an intake header: it may be truncated or not a sealed report."""

    expect = "malformed header"


class UnsupportedVersion(CryptoError):
    """The report uses a format version this intake does not know: upgrade intake."""

    expect = "unsupported version"


class NoMatchingIdentity(CryptoError):
    """No identity given matches a recipient of this report: try another identity file."""

    expect = "no match"


class HeaderMacError(CryptoError):
    """The header failed authentication: it was altered or damaged."""

    expect = "header mac"


class DamagedBody(CryptoError):
    """The report body is damaged or malformed: restore the case from a backup."""

    expect = "damaged body"


class DamagedAttachment(CryptoError):
    """An attachment is damaged: restore the case from a backup."""

    expect = "damaged attachment"


class TruncatedAttachment(DamagedAttachment):
    """An attachment ends early: the upload or the copy was cut short."""

    expect = "truncated attachment"


class MalformedEnvelope(CryptoError):
    """The sealed report file is malformed or cut short."""

    expect = "malformed envelope"


class CarriedSignatureError(CryptoError):
    """A carried file's first bytes are not signed by the key that sealed its header: they were changed on the way."""

    expect = "carried signature"


class WrongThread(CryptoError):
    """The reporter's stanza is not this thread's reply recipient: the message or report belongs elsewhere."""

    expect = "wrong thread"


class ThreadMacError(CryptoError):
    """The message is not bound to this thread: it was forged by someone who can write the store, or moved."""

    expect = "thread mac"


class WrongSender(CryptoError):
    """The message says another sender than the one the store recorded: it was altered, do not trust it."""

    expect = "wrong sender"


class InvalidKey(CryptoError):
    """A public or private key is malformed or unsafe to use."""

    expect = "invalid key"


class WrongPassphrase(CryptoError):
    """The passphrase does not unlock this file: check it and try again."""

    expect = "wrong passphrase"


class DamagedKeyFile(CryptoError):
    """The key file is unreadable, damaged or of another type."""

    expect = "damaged key file"


ALL = (
    MalformedHeader,
    UnsupportedVersion,
    NoMatchingIdentity,
    HeaderMacError,
    DamagedBody,
    DamagedAttachment,
    TruncatedAttachment,
    MalformedEnvelope,
    CarriedSignatureError,
    WrongThread,
    ThreadMacError,
    WrongSender,
)


def by_expect(name: str) -> type[CryptoError]:
    """Return the error class whose `expect:` name is `name`."""
    for cls in ALL:
        if cls.expect == name:
            return cls
    raise KeyError(name)
