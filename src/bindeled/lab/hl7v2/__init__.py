"""HL7 v2 for lab results: ER7 text, MLLP transport, ACKs, and the ORU^R01 → FHIR mapping."""

from bindeled.lab.hl7v2.ack import Ack, AckCode, AckError
from bindeled.lab.hl7v2.er7 import Encoding, Field, Message, Segment, parse, serialise
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error
from bindeled.lab.hl7v2.mllp import FrameDecoder, MllpClient, MllpServer, frame
from bindeled.lab.hl7v2.oru_r01 import MappedMessage, MappedResult, ResultKey, map_oru_r01

__all__ = [
    "Ack",
    "AckCode",
    "AckError",
    "Encoding",
    "ErrorCode",
    "ErrorLocation",
    "Field",
    "FrameDecoder",
    "Hl7Error",
    "MappedMessage",
    "MappedResult",
    "Message",
    "MllpClient",
    "MllpServer",
    "ResultKey",
    "Segment",
    "frame",
    "map_oru_r01",
    "parse",
    "serialise",
]
