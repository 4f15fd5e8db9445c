"""FHIR R4 XML ⇄ JSON: the official examples round trip, hand-written XML reads as expected,
the XML written follows the representation rules, and malformed input is an InvalidRequest."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bindeled.errors import InvalidRequest
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource

F = "{http://hl7.org/fhir}"
H = "{http://www.w3.org/1999/xhtml}"
FHIR = 'xmlns="http://hl7.org/fhir"'
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'

_canonical = msgspec.json.Encoder(decimal_format="number", order="sorted")


def canonical(tree: Any) -> bytes:
    """Sorted-key JSON: equal exactly when two trees are the same FHIR JSON, decimals digit for digit."""
    return _canonical.encode(tree)


def examples_dir(shared_dir: Path) -> Path:
    return shared_dir / "testdata" / "fhir-r4-examples"


def example(shared_dir: Path, name: str) -> dict[str, Any]:
    return jsonio.decode((examples_dir(shared_dir) / name).read_bytes())


def read(xml: str, definitions: Definitions) -> dict[str, Any]:
    return xml_to_resource(xml, definitions)


def test_public_api_is_pinned() -> None:
    from bindeled.fhir import xmlio

    assert sorted(xmlio.__all__) == ["resource_to_xml", "xml_to_resource"]


# -- the official examples ------------------------------------------------------------------------


def test_every_official_example_round_trips_exactly(shared_dir: Path, definitions: Definitions) -> None:
    paths = sorted(examples_dir(shared_dir).glob("*.json"))
    assert len(paths) == 629
    failures = []
    for path in paths:
        original = jsonio.decode(path.read_bytes())
        back = xml_to_resource(resource_to_xml(original, definitions), definitions)
        if canonical(back) != canonical(original):
            failures.append(path.name)
    assert failures == []


def test_xml_of_an_example_follows_the_representation_rules(shared_dir: Path, definitions: Definitions) -> None:
    patient = example(shared_dir, "Patient-example.json")
    shuffled = dict(reversed(list(patient.items())))  # the JSON key order must not matter
    xml = resource_to_xml(shuffled, definitions)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir">')
    root = etree.fromstring(xml)
    names = [el.tag[len(F) :] for el in root]
    expected_order = [c.name for c in definitions.children("Patient")]
    positions = [expected_order.index("deceased" if n.startswith("deceased") else n) for n in names]
    assert positions == sorted(positions)
    assert names[:3] == ["id", "text", "identifier"]
    assert "deceasedBoolean" in names
    for el in root.iter(F + "*"):
        assert not (el.text or "").strip(), "FHIR elements hold no text"
        assert set(el.attrib) <= {"value", "id", "url"}
    assert root.find(F + "active").attrib == {"value": "true"}
    birth = root.find(F + "birthDate")
    assert birth.get("value") == "1974-12-25"
    assert birth[0].tag == F + "extension"
    assert birth[0].get("url") == "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    assert birth[0][0].tag == F + "valueDateTime"
    div = root.find(F + "text").find(H + "div")
    assert div is not None
    assert div.find(f".//{H}b").text == "Chalmers"
    name = root.find(F + "name")
    assert [c.tag[len(F) :] for c in name] == ["use", "family", "given", "given"]


def test_xml_of_a_bundle_wraps_resources(shared_dir: Path, definitions: Definitions) -> None:
    bundle = example(shared_dir, "Bundle-bundle-response.json")
    root = etree.fromstring(resource_to_xml(bundle, definitions))
    assert root.tag == F + "Bundle"
    wrappers = root.findall(f"{F}entry/{F}resource")
    assert wrappers
    for wrapper in wrappers:
        assert len(wrapper) == 1
        assert wrapper[0].tag[len(F) :] in definitions.resource_types
        assert not wrapper.attrib


def test_ids_and_urls_are_attributes_and_decimals_keep_their_digits(definitions: Definitions) -> None:
    obs = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"id": "c", "text": "weight"},
        "valueQuantity": {"value": Decimal("70.50"), "unit": "kg"},
        "extension": [{"url": "http://example.org/x", "id": "e1", "valueInteger": 3}],
    }
    xml = resource_to_xml(obs, definitions).decode()
    assert '<id value="o1"/>' in xml
    assert '<extension id="e1" url="http://example.org/x"><valueInteger value="3"/></extension>' in xml
    assert '<code id="c"><text value="weight"/></code>' in xml
    assert '<valueQuantity><value value="70.50"/><unit value="kg"/></valueQuantity>' in xml
    assert xml.index("<extension") < xml.index("<status") < xml.index("<code") < xml.index("<valueQuantity")
    back = xml_to_resource(xml, definitions)
    assert back == obs
    assert str(back["valueQuantity"]["value"]) == "70.50"
    assert isinstance(back["extension"][0]["valueInteger"], int)


def test_attribute_values_keep_line_breaks_tabs_and_markup(definitions: Definitions) -> None:
    text = 'line one\r\nline\ttwo & <three> "four"'
    obs = {"resourceType": "Basic", "code": {"text": text}}
    xml = resource_to_xml(obs, definitions)
    assert b"&#13;&#10;" in xml and b"&#9;" in xml and b"&lt;three&gt;" in xml and b"&quot;four&quot;" in xml
    assert xml_to_resource(xml, definitions)["code"]["text"] == text


# -- hand-written XML -----------------------------------------------------------------------------


def test_primitive_extensions_on_array_items_are_null_aligned(definitions: Definitions) -> None:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
    <Patient {FHIR}>
      <!-- comments are ignored -->
      <name>
        <given value="Anne"/>
        <given id="g2"><extension url="http://example.org/initial"><valueBoolean value="true"/></extension></given>
        <given value="Marie"><extension url="http://example.org/x"><valueCode value="c"/></extension></given>
      </name>
      <birthDate id="bd"><extension url="http://example.org/absent"><valueCode value="unknown"/></extension></birthDate>
    </Patient>"""
    assert read(xml, definitions) == {
        "resourceType": "Patient",
        "name": [
            {
                "given": ["Anne", None, "Marie"],
                "_given": [
                    None,
                    {"id": "g2", "extension": [{"url": "http://example.org/initial", "valueBoolean": True}]},
                    {"extension": [{"url": "http://example.org/x", "valueCode": "c"}]},
                ],
            }
        ],
        "_birthDate": {"id": "bd", "extension": [{"url": "http://example.org/absent", "valueCode": "unknown"}]},
    }


def test_array_items_without_extensions_have_no_underscore_array(definitions: Definitions) -> None:
    got = read(f'<Patient {FHIR}><name><given value="a"/><given value="b"/></name></Patient>', definitions)
    assert got == {"resourceType": "Patient", "name": [{"given": ["a", "b"]}]}
    only_ext = read(
        f'<Patient {FHIR}><name><given><extension url="u"><valueString value="x"/></extension></given>'
        "</name></Patient>",
        definitions,
    )
    assert only_ext["name"][0] == {"_given": [{"extension": [{"url": "u", "valueString": "x"}]}]}
    assert canonical(read(resource_to_xml(only_ext, definitions).decode(), definitions)) == canonical(only_ext)


def test_contained_resources_and_modifier_extensions(definitions: Definitions) -> None:
    xml = f"""<MedicationRequest {FHIR}>
      <id value="mr"/>
      <contained><Medication><id value="med"/><code><text value="Panodil"/></code></Medication></contained>
      <contained><Organization><id value="org"/><active value="false"/></Organization></contained>
      <modifierExtension url="http://example.org/mod"><valueBoolean value="false"/></modifierExtension>
      <status value="active"/>
      <intent value="order"/>
      <medicationReference><reference value="#med"/></medicationReference>
      <subject><reference value="Patient/p1"/></subject>
    </MedicationRequest>"""
    assert read(xml, definitions) == {
        "resourceType": "MedicationRequest",
        "id": "mr",
        "contained": [
            {"resourceType": "Medication", "id": "med", "code": {"text": "Panodil"}},
            {"resourceType": "Organization", "id": "org", "active": False},
        ],
        "modifierExtension": [{"url": "http://example.org/mod", "valueBoolean": False}],
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "Patient/p1"},
    }


def test_bundle_with_resources_and_response_outcome(definitions: Definitions) -> None:
    xml = f"""<Bundle {FHIR}>
      <type value="transaction-response"/>
      <total value="2"/>
      <entry id="e1">
        <fullUrl value="urn:uuid:1"/>
        <resource><Patient><id value="p1"/><active value="true"/></Patient></resource>
        <response><status value="201 Created"/></response>
      </entry>
      <entry>
        <response>
          <status value="400 Bad Request"/>
          <outcome>
            <OperationOutcome>
              <issue><severity value="error"/><code value="invalid"/><expression value="Patient.name"/></issue>
            </OperationOutcome>
          </outcome>
        </response>
      </entry>
    </Bundle>"""
    assert read(xml, definitions) == {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "total": 2,
        "entry": [
            {
                "id": "e1",
                "fullUrl": "urn:uuid:1",
                "resource": {"resourceType": "Patient", "id": "p1", "active": True},
                "response": {"status": "201 Created"},
            },
            {
                "response": {
                    "status": "400 Bad Request",
                    "outcome": {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "invalid", "expression": ["Patient.name"]}],
                    },
                }
            },
        ],
    }


def test_parameters_with_typed_values_parts_and_resources(definitions: Definitions) -> None:
    xml = f"""<Parameters {FHIR}>
      <parameter><name value="dose"/><valueDecimal value="1.50"/></parameter>
      <parameter><name value="big"/><valueDecimal value="-2.5E+3"/></parameter>
      <parameter><name value="count"/><valueUnsignedInt value="0"/></parameter>
      <parameter>
        <name value="quantity"/><valueQuantity><value value="12"/><unit value="mg"/></valueQuantity>
      </parameter>
      <parameter>
        <name value="patient"/>
        <resource><Patient><gender value="female"/></Patient></resource>
      </parameter>
      <parameter>
        <name value="group"/>
        <part><name value="flag"/><valueBoolean value="false"/></part>
        <part><name value="n"/><valuePositiveInt value="7"/></part>
      </parameter>
    </Parameters>"""
    got = read(xml, definitions)
    params = got["parameter"]
    assert params[0]["valueDecimal"] == Decimal("1.50") and str(params[0]["valueDecimal"]) == "1.50"
    assert str(params[1]["valueDecimal"]) == "-2.5E+3"
    assert params[2]["valueUnsignedInt"] == 0 and type(params[2]["valueUnsignedInt"]) is int
    assert params[3]["valueQuantity"] == {"value": Decimal("12"), "unit": "mg"}
    assert params[4]["resource"] == {"resourceType": "Patient", "gender": "female"}
    assert params[5]["part"] == [{"name": "flag", "valueBoolean": False}, {"name": "n", "valuePositiveInt": 7}]
    assert canonical(read(resource_to_xml(got, definitions).decode(), definitions)) == canonical(got)


def test_narrative_with_entities_and_nested_xhtml_is_kept_verbatim(definitions: Definitions) -> None:
    div = (
        f'<div {XHTML}>\r\n  <p class="a">Fish &amp; chips &lt;3 &quot;yes&quot;&#160;</p>'
        "<table><tr><td><b>x</b><br />y</td></tr></table><!-- note --><p></p></div>"
    )
    xml = f"""<Patient {FHIR} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a b">
      <text><status value="generated"/>{div}</text></Patient>"""
    got = read(xml, definitions)
    assert got == {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    again = resource_to_xml(got, definitions)
    assert div.encode() in again


def test_several_narratives_each_come_back_as_written(definitions: Definitions) -> None:
    divs = [
        f"<div {XHTML}><p>&quot;one&quot;</p></div>",
        f"<div {XHTML}><p>two</p></div>",
        f"<div {XHTML}>\r\n<div><p title='x'>three &#x3C; four</p></div><br /></div>",
    ]
    entries = "".join(
        f"<entry><resource><Basic><text><status value='generated'/>{div}</text>"
        f"<code><text value='b{i}'/></code></Basic></resource></entry>"
        for i, div in enumerate(divs)
    )
    xml = f"""<Bundle {FHIR}><!-- <div {XHTML}><p>not a narrative</p></div> -->
      <type value="collection"/>{entries}</Bundle>"""
    got = read(xml, definitions)
    assert [e["resource"]["text"]["div"] for e in got["entry"]] == divs
    assert canonical(read(resource_to_xml(got, definitions).decode(), definitions)) == canonical(got)


def test_narrative_whose_namespace_is_declared_above_is_reserialised(definitions: Definitions) -> None:
    xml = f"""<Patient {FHIR} xmlns:h="http://www.w3.org/1999/xhtml">
      <text><status value="generated"/><h:div><h:p>A &amp; B</h:p></h:div></text></Patient>"""
    div = read(xml, definitions)["text"]["div"]
    assert div == '<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>A &amp; B</h:p></h:div>'


def test_json_div_without_namespace_gets_it(definitions: Definitions) -> None:
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div": "<div><p>hi</p></div>"}}
    xml = resource_to_xml(patient, definitions)
    assert f"<div {XHTML}><p>hi</p></div>".encode() in xml
    assert read(xml.decode(), definitions)["text"]["div"] == f"<div {XHTML}><p>hi</p></div>"


def test_nested_items_follow_the_content_reference(definitions: Definitions) -> None:
    xml = f"""<Questionnaire {FHIR}><status value="draft"/>
      <item><linkId value="1"/><type value="group"/>
        <item><linkId value="1.1"/><type value="group"/>
          <item><linkId value="1.1.1"/><type value="boolean"/><required value="true"/></item>
        </item>
      </item></Questionnaire>"""
    got = read(xml, definitions)
    inner = got["item"][0]["item"][0]["item"][0]
    assert inner == {"linkId": "1.1.1", "type": "boolean", "required": True}


def test_text_input_with_an_encoding_declaration_and_latin1_bytes(definitions: Definitions) -> None:
    body = (
        f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<Patient {FHIR}><name><family value="Jørgensen"/></name>'
        "</Patient>"
    )
    expected = {"resourceType": "Patient", "name": [{"family": "Jørgensen"}]}
    assert xml_to_resource(body, definitions) == expected
    assert xml_to_resource(body.encode("latin-1"), definitions) == expected
    assert xml_to_resource(("\ufeff" + body.split("\n", 1)[1]).encode("utf-8"), definitions) == expected


# -- malformed XML --------------------------------------------------------------------------------

P = f"<Patient {FHIR}>"

MALFORMED = [
    pytest.param("<Patient", "line 1", "well-formed", id="syntax"),
    pytest.param(f"{P}\n<active value='true'>\n</Patient>", "line 3", "well-formed", id="syntax-line"),
    pytest.param("", "line 1", "well-formed", id="empty"),
    pytest.param(f"{P}<foo value='x'/></Patient>", "Patient.foo", "Unknown element", id="unknown-element"),
    pytest.param(
        '<Patient xmlns="http://hl7.org/fhir" xmlns:o="urn:other"><o:active value="true"/></Patient>',
        "Patient",
        "namespace",
        id="wrong-namespace",
    ),
    pytest.param("<Patient><active value='true'/></Patient>", "/", "namespace", id="root-without-namespace"),
    pytest.param(f"<Foo {FHIR}/>", "Foo", "not a FHIR R4 resource type", id="unknown-root"),
    pytest.param(f"<Resource {FHIR}/>", "Resource", "not a FHIR R4 resource type", id="abstract-root"),
    pytest.param(f"<name {FHIR}/>", "name", "not a FHIR R4 resource type", id="element-as-root"),
    pytest.param(f"{P}<name value='x'/></Patient>", "Patient.name[0]", "value attribute", id="value-on-complex"),
    pytest.param(f"{P}<active value='true'>yes</active></Patient>", "Patient.active", "Text", id="text"),
    pytest.param(f"{P}text<active value='true'/></Patient>", "Patient", "Text", id="text-in-resource"),
    pytest.param(f"{P}<active value='yes'/></Patient>", "Patient.active", "boolean", id="bad-boolean"),
    pytest.param(f"{P}<active value='True'/></Patient>", "Patient.active", "boolean", id="bad-boolean-case"),
    pytest.param(
        f"{P}<multipleBirthInteger value='1.0'/></Patient>",
        "Patient.multipleBirthInteger",
        "integer",
        id="bad-integer",
    ),
    pytest.param(
        f"{P}<multipleBirthInteger value='{'9' * 5000}'/></Patient>",
        "Patient.multipleBirthInteger",
        "integer",
        id="huge-integer",
    ),
    pytest.param(
        f"<Observation {FHIR}><status value='final'/><code><text value='x'/></code>"
        "<valueQuantity><value value='1.'/></valueQuantity></Observation>",
        "Observation.valueQuantity.value",
        "decimal",
        id="bad-decimal",
    ),
    pytest.param(
        f"<Observation {FHIR}><status value='final'/><code><text value='x'/></code>"
        "<valueQuantity><value value='NaN'/></valueQuantity></Observation>",
        "Observation.valueQuantity.value",
        "decimal",
        id="nan-decimal",
    ),
    pytest.param(f"{P}<active value=''/></Patient>", "Patient.active", "empty", id="empty-value"),
    pytest.param(f"{P}<active/></Patient>", "Patient.active", "neither a value", id="empty-primitive"),
    pytest.param(f"{P}<name/></Patient>", "Patient.name[0]", "empty", id="empty-complex"),
    pytest.param(f"{P}<active value='true' foo='x'/></Patient>", "Patient.active", "Unknown attribute", id="attr"),
    pytest.param(f"<Patient {FHIR} id='x'/>", "Patient", "Unknown attribute", id="id-attribute-on-resource"),
    pytest.param(f"{P}<gender value='male'/><active value='true'/></Patient>", "Patient.active", "order", id="order"),
    pytest.param(
        f"{P}<active value='true'/><active value='false'/></Patient>", "Patient.active", "only once", id="repeat"
    ),
    pytest.param(
        f"{P}<deceasedBoolean value='true'/><deceasedDateTime value='2020'/></Patient>",
        "Patient.deceasedDateTime",
        "only once",
        id="two-choices",
    ),
    pytest.param(
        f"{P}<name><given value='a'/><prefix value='b'/><given value='c'/></name></Patient>",
        "Patient.name[0].given",
        "order",
        id="split-repeats",
    ),
    pytest.param(
        f"{P}<contained><Patient/><Patient/></contained></Patient>",
        "Patient.contained[0]",
        "exactly one",
        id="wrapper-two-children",
    ),
    pytest.param(f"{P}<contained/></Patient>", "Patient.contained[0]", "exactly one", id="wrapper-empty"),
    pytest.param(f"{P}<contained>x<Patient/></contained></Patient>", "Patient.contained[0]", "Text", id="wrapper-text"),
    pytest.param(
        f"{P}<contained><name><family value='x'/></name></contained></Patient>",
        "Patient.contained[0]",
        "not a FHIR R4 resource type",
        id="wrapper-holds-element",
    ),
    pytest.param(
        f"{P}<text><status value='generated'/><div><p>x</p></div></text></Patient>",
        "Patient.text.div",
        "XHTML namespace",
        id="div-in-fhir-namespace",
    ),
    pytest.param(
        f"{P}<name><div {XHTML}/></name></Patient>", "Patient.name[0]", "only allowed as Narrative.div", id="xhtml"
    ),
    pytest.param(f"{P}<?php echo 1 ?></Patient>", "Patient", "processing instruction", id="pi"),
    pytest.param(f"<?php echo 1 ?>{P}</Patient>", "line 1", "processing instruction", id="pi-before-root"),
    pytest.param(
        f"{P}<text><status value='generated'/><div {XHTML}><?x y?></div></text></Patient>",
        "Patient.text.div",
        "processing instruction",
        id="pi-in-div",
    ),
    pytest.param(
        '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        f"{P}<id value='&d;'/></Patient>",
        "line 1",
        "",
        id="billion-laughs",
    ),
    pytest.param(
        f'<!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>{P}<text><status value="generated"/>'
        f"<div {XHTML}>&e;</div></text></Patient>",
        "line 1",
        "",
        id="xxe",
    ),
    pytest.param(
        f'<!DOCTYPE p SYSTEM "http://127.0.0.1:9/evil.dtd">{P}</Patient>', "line 1", "DOCTYPE", id="external-dtd"
    ),
    pytest.param(f"{P}<id value='&nbsp;'/></Patient>", "line 1", "well-formed", id="undefined-entity"),
    pytest.param(
        P + "<extension url='u'>" * 140 + "<valueString value='x'/>" + "</extension>" * 140 + "</Patient>",
        "Patient.extension[0]",
        "deeper",
        id="depth",
    ),
    pytest.param(P + "<extension url='u'>" * 300 + "</extension>" * 300 + "</Patient>", "line 1", "", id="depth-300"),
]


@pytest.mark.parametrize(("xml", "location", "message"), MALFORMED)
def test_malformed_xml_is_an_invalid_request_with_a_location(
    xml: str, location: str, message: str, definitions: Definitions
) -> None:
    for body in (xml, xml.encode("utf-8")):
        with pytest.raises(InvalidRequest) as caught:
            xml_to_resource(body, definitions)
        assert caught.value.location, "every error names where it is"
        assert caught.value.location[0].startswith(location)
        assert message in caught.value.message
        assert caught.value.status == 400


# -- malformed JSON trees -------------------------------------------------------------------------

BAD_JSON = [
    pytest.param({"resourceType": "Nope"}, "/", id="unknown-type"),
    pytest.param({"id": "x"}, "/", id="no-type"),
    pytest.param({"resourceType": "Patient", "foo": 1}, "Patient.foo", id="unknown-key"),
    pytest.param({"resourceType": "Patient", "_foo": {}}, "Patient._foo", id="unknown-underscore"),
    pytest.param({"resourceType": "Patient", "_name": [{}]}, "Patient._name", id="underscore-on-complex"),
    pytest.param({"resourceType": "Patient", "active": "true"}, "Patient.active", id="string-for-boolean"),
    pytest.param({"resourceType": "Patient", "multipleBirthInteger": True}, "Patient.multipleBirthInteger", id="bool"),
    pytest.param({"resourceType": "Patient", "active": [True]}, "Patient.active", id="array-for-single"),
    pytest.param({"resourceType": "Patient", "name": {"family": "x"}}, "Patient.name", id="object-for-array"),
    pytest.param({"resourceType": "Patient", "name": []}, "Patient.name", id="empty-array"),
    pytest.param({"resourceType": "Patient", "name": ["x"]}, "Patient.name[0]", id="string-for-complex"),
    pytest.param({"resourceType": "Patient", "name": [{}]}, "Patient.name[0]", id="empty-object"),
    pytest.param(
        {"resourceType": "Patient", "name": [{"given": ["a", "b"], "_given": [None]}]},
        "Patient.name[0].given",
        id="misaligned",
    ),
    pytest.param(
        {"resourceType": "Patient", "name": [{"given": ["a", None]}]}, "Patient.name[0].given[1]", id="null-item"
    ),
    pytest.param(
        {"resourceType": "Patient", "name": [{"given": ["a"], "_given": [None]}]},
        "Patient.name[0].given",
        id="all-null-partner",
    ),
    pytest.param({"resourceType": "Patient", "_active": {"value": True}}, "Patient.active", id="value-in-underscore"),
    pytest.param(
        {"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020"},
        "Patient.deceased",
        id="two-choices",
    ),
    pytest.param({"resourceType": "Patient", "id": ""}, "Patient.id", id="empty-string"),
    pytest.param({"resourceType": "Patient", "id": "a\x01b"}, "Patient.id", id="control-character"),
    pytest.param({"resourceType": "Patient", "id": "a\ud800"}, "Patient.id", id="lone-surrogate"),
    pytest.param(
        {"resourceType": "Patient", "name": [{"id": 7, "family": "x"}]}, "Patient.name[0].id", id="bad-element-id"
    ),
    pytest.param(
        {"resourceType": "Patient", "name": [{"_id": {"extension": []}, "family": "x"}]},
        "Patient.name[0]._id",
        id="extension-on-attribute",
    ),
    pytest.param(
        {"resourceType": "Patient", "multipleBirthInteger": 1.5}, "Patient.multipleBirthInteger", id="float-int"
    ),
    pytest.param(
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueDecimal": Decimal("NaN")},
        "Observation.valueDecimal",
        id="nan",
    ),
    pytest.param(
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueInteger": 2**40},
        None,
        id="large-int-is-fine",
    ),
    pytest.param(
        {"resourceType": "Patient", "multipleBirthInteger": 10**5000}, "Patient.multipleBirthInteger", id="huge-int"
    ),
    pytest.param({"resourceType": "Patient", "contained": [{"id": "x"}]}, "Patient.contained[0]", id="no-type-inside"),
    pytest.param({"resourceType": "Patient", "contained": ["x"]}, "Patient.contained[0]", id="string-resource"),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": f"<div {XHTML}>a</div><evil/>"}},
        "Patient.text.div",
        id="div-injection",
    ),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": f"</text><div {XHTML}>a</div>"}},
        "Patient.text.div",
        id="div-closing-tags",
    ),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": f'<?xml version="1.0"?><div {XHTML}/>'}},
        "Patient.text.div",
        id="div-declaration",
    ),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": "plain text"}},
        "Patient.text.div",
        id="div-text",
    ),
    pytest.param(
        {
            "resourceType": "Patient",
            "text": {"status": "generated", "div": '<p xmlns="http://www.w3.org/1999/xhtml"/>'},
        },
        "Patient.text.div",
        id="div-not-div",
    ),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": f"<div {XHTML}>&nbsp;</div>"}},
        "Patient.text.div",
        id="div-html-entity",
    ),
    pytest.param(
        {"resourceType": "Patient", "text": {"status": "generated", "div": 5}}, "Patient.text.div", id="div-number"
    ),
]


@pytest.mark.parametrize(("tree", "location"), BAD_JSON)
def test_malformed_json_trees_are_an_invalid_request(
    tree: dict[str, Any], location: str | None, definitions: Definitions
) -> None:
    if location is None:
        assert xml_to_resource(resource_to_xml(tree, definitions), definitions) == tree
        return
    with pytest.raises(InvalidRequest) as caught:
        resource_to_xml(tree, definitions)
    assert caught.value.location[0].startswith(location)


def test_too_deep_json_is_refused(definitions: Definitions) -> None:
    ext: dict[str, Any] = {"url": "u", "valueString": "x"}
    for _ in range(200):
        ext = {"url": "u", "extension": [ext]}
    with pytest.raises(InvalidRequest, match="deeper"):
        resource_to_xml({"resourceType": "Basic", "code": {"text": "x"}, "extension": [ext]}, definitions)


def test_error_messages_carry_no_values(definitions: Definitions) -> None:
    secret = "0101701234"
    for xml in (
        f"{P}<active value='{secret}'/></Patient>",
        f"{P}<multipleBirthInteger value='{secret}x'/></Patient>",
    ):
        with pytest.raises(InvalidRequest) as caught:
            xml_to_resource(xml, definitions)
        assert secret not in caught.value.message


# -- robustness: random and mutated input ---------------------------------------------------------

SEEDS = (
    "Patient-example.json",
    "Bundle-bundle-response.json",
    "QuestionnaireResponse-3141.json",
    "Observation-ekg.json",
)


@pytest.fixture(scope="module")
def seed_xml(shared_dir: Path, definitions: Definitions) -> list[bytes]:
    return [resource_to_xml(example(shared_dir, name), definitions) for name in SEEDS]


def _check(data: bytes | str, definitions: Definitions) -> None:
    """Either a resource that converts back to the same tree, or an InvalidRequest; nothing else."""
    try:
        tree = xml_to_resource(data, definitions)
    except InvalidRequest as exc:
        assert exc.location
        return
    jsonio.check_json_rules(tree, tree["resourceType"])  # what XML gives is valid FHIR JSON
    again = xml_to_resource(resource_to_xml(tree, definitions), definitions)
    assert canonical(again) == canonical(tree)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_random_input_never_escapes_as_another_exception(definitions: Definitions, data: bytes | str) -> None:
    _check(data, definitions)


_SNIPPETS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b'"',
    b"<!-- c -->",
    b"<?pi x?>",
    b"<![CDATA[x]]>",
    b"</",
    b"/>",
    b'<extension url="u"/>',
    b'<valueString value="x"/>',
    b'<div xmlns="http://www.w3.org/1999/xhtml">a</div>',
    b"<resource>",
    b"</resource>",
    b' id="x"',
    b' value="1.0"',
    b"\x00",
    b"\xff",
    b"\xc3\xa6",
    b"xmlns:h='urn:x'",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_xml_never_escapes_as_another_exception(
    definitions: Definitions, seed_xml: list[bytes], data: st.DataObject
) -> None:
    body = bytearray(data.draw(st.sampled_from(seed_xml)))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body)))
        action = data.draw(st.sampled_from(["delete", "insert", "duplicate", "byte"]))
        if action == "delete":
            del body[at : at + data.draw(st.integers(1, 40))]
        elif action == "insert":
            body[at:at] = data.draw(st.sampled_from(_SNIPPETS))
        elif action == "duplicate":
            body[at:at] = body[at : at + data.draw(st.integers(1, 200))]
        elif at < len(body):
            body[at] = data.draw(st.integers(0, 255))
    _check(bytes(body), definitions)


def _mutate_tree(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict):
        out = {k: _mutate_tree(v, rng) for k, v in node.items()}
        if out and rng.random() < 0.15:
            del out[rng.choice(list(out))]
        if out and rng.random() < 0.05:
            out[rng.choice(["foo", "_" + rng.choice(list(out)), "resourceType", "id"])] = rng.choice([1, "x", None, {}])
        return out
    if isinstance(node, list):
        items = [_mutate_tree(v, rng) for v in node]
        if rng.random() < 0.1:
            items.append(rng.choice([None, "x", 1, {}]))
        return items
    if rng.random() < 0.05:
        return rng.choice([None, True, 0, -1, Decimal("1.50"), "", "x", [], {}])
    return node


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SEEDS), st.integers(0, 2**32))
def test_mutated_json_never_escapes_as_another_exception(
    definitions: Definitions, shared_dir: Path, name: str, seed: int
) -> None:
    tree = _mutate_tree(example(shared_dir, name), random.Random(seed))
    try:
        xml = resource_to_xml(tree, definitions)
    except InvalidRequest as exc:
        assert exc.location or exc.message
        return
    _check(xml, definitions)
