"""The structural layer (contract/graph-*.json) is what the generator makes of Graph's CSDL, and stays so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from graphtape.contract import generate

METADATA = Path(os.environ.get("GRAPHTAPE_GRAPH_METADATA", generate.DEFAULT_METADATA))
HAVE_CSDL = all((METADATA / name).is_file() for name in generate.SOURCES.values())


@pytest.mark.skipif(not HAVE_CSDL, reason=f"no Graph CSDL in {METADATA} (CI has ../shared/graph-metadata beside "
                                          "the clone; set GRAPHTAPE_GRAPH_METADATA to point elsewhere)")
def test_checked_in_output_equals_a_fresh_run() -> None:
    for path, text in generate.outputs(METADATA).items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make contract` and commit it"


def test_check_mode_fails_on_a_missing_metadata_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--metadata", str(tmp_path), "--check"]) == 2
    assert "is missing" in capsys.readouterr().err


@pytest.mark.parametrize("version", list(generate.SOURCES))
def test_the_checked_in_layer_carries_the_mail_surface_and_its_licence(version: str) -> None:
    data = json.loads((generate.OUT_DIR / f"graph-{version}.json").read_text(encoding="utf-8"))
    assert "MIT" in data["licence"] and "Microsoft" in data["licence"]
    assert (generate.OUT_DIR / "GRAPH-METADATA-LICENSE.txt").is_file()
    types = data["types"]
    assert types["message"]["base"] == "outlookItem" and types["outlookItem"]["base"] == "entity"
    assert types["attachment"]["derived"] == ["fileAttachment", "itemAttachment", "referenceAttachment"]
    assert types["attachment"]["properties"]["size"] == {"type": "Edm.Int32", "nullable": False}
    assert types["dateTimeTimeZone"]["properties"]["dateTime"]["nullable"] is False
    assert types["importance"]["members"][:3] == ["low", "normal", "high"]
    assert types["openTypeExtension"]["properties"]["extensionName"]["nullable"] is False
    send_mail = data["actions"]["user.sendMail"]["parameters"]
    assert send_mail == {"Message": {"type": "message", "nullable": False}, "SaveToSentItems": {"type": "Edm.Boolean"}}
    assert ("mention" in types) == (version == "beta")


def test_the_generator_reads_a_csdl_in_graphs_shape() -> None:
    mini = Path(__file__).parent / "data" / "mini.csdl"
    data = generate.table(generate.Csdl.parse(mini), mini)
    types = data["types"]
    assert "unrelated" not in types and "user" not in types  # only what the mail calls reach
    assert types["message"] == {
        "kind": "entity", "base": "outlookItem", "open": True,
        "properties": {"importance": {"type": "importance"},
                       "toRecipients": {"type": "recipient", "collection": True},
                       "attachments": {"type": "attachment", "collection": True, "navigation": True}},
    }
    assert types["attachment"]["derived"] == ["fileAttachment"] and types["attachment"]["abstract"] is True
    assert types["outlookItem"]["derived"] == ["message"] and types["outlookItem"]["derivedUnchecked"] == ["event"]
    assert types["importance"] == {"kind": "enum", "members": ["low", "high"]}
    assert data["actions"]["user.sendMail"]["parameters"]["Message"] == {"type": "message", "nullable": False}
    assert data["actions"]["message.send"]["parameters"] == {}  # the chat's send is another action
    assert "message.forward" in data["absentActions"]
    assert data["source"]["file"] == "schemas/mini.csdl" and len(data["source"]["sha256"]) == 64
    assert generate.render(data) == generate.render(generate.table(generate.Csdl.parse(mini), mini))


def test_every_overlay_entry_names_a_type_and_property_of_the_layer() -> None:
    from graphtape.contract.build import chain, merged, overlay

    types, actions = merged("beta")
    v1_types, _ = merged("v1.0")
    assert set(types) <= set(v1_types)  # /v1.0 carries /beta's additions, flagged betaOnly

    def declared(type_name: str) -> set[str]:
        return {p for t in chain(types, type_name) for p in types[t].get("properties", {})}

    data = overlay()
    assert set(data["closed"]) <= set(types)
    for section in ("read_only", "required"):
        for type_name, props in data[section].items():
            assert type_name in types, f"overlay {section}: no type {type_name}"
            derived = [d for d in types[type_name].get("derived", ())]
            known = declared(type_name).union(*(declared(d) for d in derived)) | {"@odata.type"}
            assert set(props) <= known, f"overlay {section}.{type_name}: {set(props) - known}"
    for key in data["constraints"]:
        type_name, prop = key.split(".")
        assert prop in declared(type_name), f"overlay constraints: no property {key}"
    assert set(data["beta_from_v1"]) <= set(actions)
