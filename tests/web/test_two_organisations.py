"""Someone on the boards of two associations: after `set_representations` they see each
organisation's agreements under its own heading, and only theirs; the change is in the
person's history; removing it takes the second organisation's agreements away again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_app import ANNA, DAY, JOHAN, PASSWORD, REF, agreement_id, now, prepared_app

from iop_workflow.bootstrap import App
from iop_workflow.domain.errors import InvalidInput, RuleViolation
from iop_workflow.entrypoints.web.app import create_app
from iop_workflow.service.people_register import set_representations, show_person

SVEN = "Sven Ek"  # Föreningen Öppna Dörren i Mjölby (802471-3052)
SAMTALSJOUREN = "802503-9176"  # the party to OSN 2024/0087


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = prepared_app(tmp_path_factory.mktemp("two"))
    yield app
    app.database.dispose()


def start_page(product: App) -> tuple[TestClient, str]:
    browser = TestClient(create_app(product), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
    assert token
    data = {"username": SVEN, "password": PASSWORD, "csrf_token": token.group(1)}
    assert browser.post("/login", data=data, follow_redirects=False).status_code == 303
    return browser, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", browser.get("/").text))


def represent(product: App, orgs: list[str], actor: str = ANNA) -> object:
    return set_representations(
        product.database, SVEN, orgs, actor_name=actor, today=DAY, now=now(), clock=product.clock
    )


def test_a_second_organisation_shows_apart_and_only_while_it_is_given(product: App) -> None:
    key = agreement_id(product.database)
    browser, shown = start_page(product)
    assert "Föreningen Öppna Dörren i Mjölby" in shown and REF not in shown
    assert browser.get(f"/agreements/{key}").status_code == 404

    represent(product, [SAMTALSJOUREN])
    browser, shown = start_page(product)
    own = shown.index("Föreningen Öppna Dörren i Mjölby")
    other = shown.index("Samtalsjouren Svartån")
    assert REF in shown[other:] and REF not in shown[own:other]  # under its own heading
    assert browser.get(f"/agreements/{key}/reports/2026").status_code == 200
    history = show_person(product.database, SVEN)["history"]
    assert history[-1]["data"]["changes"]["also_represents"]["to"] == [SAMTALSJOUREN]

    represent(product, [])
    browser, shown = start_page(product)
    assert REF not in shown and browser.get(f"/agreements/{key}").status_code == 404


def test_only_staff_of_the_organisations_municipality_may_give_it(product: App) -> None:
    with pytest.raises(RuleViolation):
        represent(product, [SAMTALSJOUREN], actor=JOHAN)  # Kramfors staff, a Mjölby party
    with pytest.raises(InvalidInput, match="no organisation"):
        represent(product, ["556000-0001"])
    with pytest.raises(InvalidInput, match="only an organisation_representative"):
        set_representations(
            product.database, ANNA, [SAMTALSJOUREN], actor_name=ANNA, today=DAY, now=now()
        )
