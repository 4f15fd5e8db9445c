"""Hand-written ORU^R01 messages (synthetic people and codes) shared by the lab tests."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from bindeled.lab.synthetic import synthetic_case

LAB = "999000000000011"
CPR = "0101801234"


def oru(
    *,
    control_id: str = "MSG0001",
    status: str = "F",
    sent: str = "20260310120000",
    pid3: str = f"{CPR}^^^CPR^NNDNK",
    obx: tuple[str, ...] | None = None,
    msh9: str = "ORU^R01^ORU_R01",
) -> str:
    """A blood culture with S. aureus and a small MIC panel; pieces can be replaced to break it."""
    result = "C" if status == "C" else ("F" if status == "F" else "P")
    rows = obx or (
        f"OBX|1|CWE|ISO^Isolat^L|1|SAUR^Staphylococcus aureus^L||||||{result}",
        f"OBX|2|SN|CLO^Cloxacillin^L|1|<=^0.25|mg/L||S|||{result}||||||MIC",
        f"OBX|3|SN|VAN^Vancomycin^L|1|^1.0|mg/L||S|||{result}||||||MIC",
        f"OBX|4|SN|ERY^Erythromycin^L|1|>^8|mg/L||R|||{result}||||||MIC",
    )
    segments = (
        f"MSH|^~\\&|KMA-LIS|{LAB}|BINDELED|BINDELED|{sent}||{msh9}|{control_id}|P|2.5|||||DNK|UNICODE UTF-8",
        f"PID|1||{pid3}||Jensen^Anne||19800101|F",
        "ORC|RE|R1000",
        f"OBR|1|R1000|S1000|BLOD-D^Bloddyrkning^L|||20260308081500|||||||20260308093000||||||||{sent}|||{status}",
        *rows,
        "SPM|1|^R1000&&S1000||BLOD^Blod^L||||ARM^Arm^L|||||||||20260308081500|20260308093000",
    )
    return "\r".join(segments) + "\r"


def urine() -> str:
    """A urine culture with a colony count (CFU/mL) and one unmapped antibiotic code."""
    return oru(
        control_id="MSG-URINE",
        obx=(
            "OBX|1|CWE|ISO^Isolat^L|1|ECOL^Escherichia coli^L||||||F",
            "OBX|2|SN|KIM^Kimtal^L|1|>=^100000|CFU/mL|||||F",
            "OBX|3|NM|MEC^Mecillinam^L|1|0.50|mg/L||S|||F||||||MIC",
            "OBX|4|SN|ZZZ^Ukendt^L|1|^4|mg/L||I|||F||||||MIC",
        ),
    )


_TOKENS = [
    "|",
    "^",
    "~",
    "\\",
    "&",
    "\r",
    "",
    "X",
    "<=",
    "NM",
    "SN",
    "CWE",
    "F",
    "C",
    "OBX",
    "PID",
    "MSH",
    "2026",
    "1.5e3",
    "\\X0\\",
]


@st.composite
def mutated_messages(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from([oru(), urine(), synthetic_case(random.Random(draw(st.integers(0, 50)))).message("F")]))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 12))
        text = text[:position] + draw(st.sampled_from(_TOKENS) | st.text(max_size=3)) + text[position + cut :]
    return text
