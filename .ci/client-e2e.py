"""A short session with the Python client generated from the contract, as an integrator's first
hour would go: a token, a province, a district and a commune, an official, a grant, the list of
officials, and one problem response read as a typed Problem.

    PYTHONPATH=<folder holding dvc_client> python .ci/client-e2e.py http://127.0.0.1:8080 <admin password>
"""

import datetime
import sys
import uuid

from dvc_client import AuthenticatedClient, Client
from dvc_client.api.auth import issue_token
from dvc_client.api.grants import create_grant
from dvc_client.api.officials import create_official, list_officials
from dvc_client.api.units import create_unit, get_unit
from dvc_client.models import (
    CreateGrant,
    CreateOfficial,
    CreateUnit,
    GrantResponse,
    ListResponseOfficialResponse,
    OfficialResponse,
    PortalAccount,
    Problem,
    TokenRequest,
    TokenResponse,
    UnitKind,
    UnitResponse,
)


def expect(value, kind):
    if not isinstance(value, kind):
        raise SystemExit(f"expected {kind.__name__}, got {value!r}")
    return value


def main(base_url: str, password: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    wrong = issue_token.sync(client=anonymous, body=TokenRequest(username="admin", password="not-the-password"))
    expect(wrong, Problem)
    assert wrong.status == 401 and wrong.detail == "invalid username or password", wrong

    token = expect(issue_token.sync(client=anonymous, body=TokenRequest(username="admin", password=password)), TokenResponse)
    client = AuthenticatedClient(base_url=base_url, token=token.access_token, raise_on_unexpected_status=True)

    def unit(code: str, name: str, kind: UnitKind, parent: UnitResponse | None) -> UnitResponse:
        body = CreateUnit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None)
        return expect(create_unit.sync(client=client, body=body), UnitResponse)

    province = unit("52", "Tỉnh Bình Định", UnitKind.PROVINCE, None)
    district = unit("542", "Huyện An Lão", UnitKind.DISTRICT, province)
    commune = unit("21609", "Thị trấn An Lão", UnitKind.COMMUNE, district)
    assert commune.parent_name == "Huyện An Lão" and commune.province_name == "Tỉnh Bình Định", commune

    official = create_official.sync(
        client=client,
        body=CreateOfficial(
            full_name="Nguyễn Văn An",
            unit_id=commune.id,
            id_number="052090001245",
            phone="0972 123 588",
            portal_account=PortalAccount.CREATED,
            portal_account_at=datetime.datetime(2021, 7, 1, 2, 15, tzinfo=datetime.timezone.utc),
        ),
    )
    official = expect(official, OfficialResponse)
    assert official.phone == "0972123588", official

    grant = create_grant.sync(
        client=client,
        body=CreateGrant(
            official_id=official.id,
            basis="1234/QĐ-UBND",
            valid_from=datetime.date(2021, 7, 1),
            valid_until=datetime.date(2021, 12, 31),
        ),
    )
    expect(grant, GrantResponse)

    page = expect(list_officials.sync(client=client), ListResponseOfficialResponse)
    assert [item.id for item in page.items] == [official.id] and page.next_cursor is None, page
    expect(page.items[0], OfficialResponse)

    missing = get_unit.sync_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404, missing
    problem = expect(missing.parsed, Problem)
    assert problem.status == 404 and problem.title, problem
    print("the generated client works: token, units, official, grant, list, problem")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
