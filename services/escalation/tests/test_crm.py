"""CRM adapters with their real client libraries (simple-salesforce, requests) against the
simulator's fake Salesforce, HubSpot and webhook receiver, served over TLS on a free port (as
simple-salesforce only speaks HTTPS); the in-memory fake runs the same contract suite."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from chalicelib.crm import (
    CloseCaseJob,
    CrmDirectory,
    CrmSync,
    InMemoryCrm,
    NullCrm,
    OpenCaseJob,
    RetryPolicy,
    build_crm,
    crm_credentials,
    crm_group,
    parse_job,
)
from chalicelib.crm.base import http_session
from chalicelib.crm.webhook import sign
from infra.local.simulator import create_app, start_in_thread
from infra.local.simulator.app import shutdown_app
from infra.local.simulator.crm import CrmSimConfig
from parley.crm import (
    Crm,
    CrmCase,
    CrmCaseNotFound,
    CrmCaseUpdate,
    CrmContact,
    CrmRejected,
    CrmUnavailable,
)
from parley.errors import ConfigurationError, SecretNotSet

SIM = CrmSimConfig()
BUSINESS = "100000000000001"
WA_ID = "15551234567"
OTHER_WA_ID = "34600111222"
REAL = ("salesforce", "hubspot", "webhook")


# -- the simulator over TLS ----------------------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
            builder = builder.add_extension(x509.SubjectAlternativeName([ip]), False)
            server = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
            builder = builder.add_extension(server, False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("parley test CA", "parley test CA", ca_key, ca_key, True)
    cert = build("127.0.0.1", "parley test CA", key, ca_key, False)
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class Sim:
    def __init__(self, url: str, ca: str) -> None:
        self.url = url
        self.http = http_session(verify=ca)

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"{self.url}/_crm/state").json()
        return found

    def fault(self, **spec: Any) -> None:
        self.http.post(f"{self.url}/_crm/faults", json=spec).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.url}/_crm/faults").raise_for_status()

    def config(self, provider: str, **extra: Any) -> dict[str, Any]:
        """The CRM secret's JSON for `provider`, pointing at the fakes."""
        configs: dict[str, dict[str, Any]] = {
            "salesforce": {"instance_url": self.url, "session_id": SIM.salesforce_session_id},
            "hubspot": {"base_url": self.url, "access_token": SIM.hubspot_token},
            "webhook": {"webhook_url": f"{self.url}/_crm/cases"},
        }
        secret = {"signing_secret": SIM.signing_secret} if provider == "webhook" else {}
        return {"provider": provider, **configs[provider], **secret, **extra}

    def crm(self, provider: str, **extra: Any) -> Crm:
        return build_crm(self.config(provider, **extra), session=self.http)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Sim(f"https://127.0.0.1:{server.port}", str(ca))
    shutdown_app(app)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _fresh(sim: Sim) -> None:
    sim.http.post(f"{sim.url}/_crm/reset").raise_for_status()


# -- helpers ------------------------------------------------------------------------------------


def contact(wa_id: str = WA_ID, name: str | None = "Alex Demo") -> CrmContact:
    return CrmContact(wa_id=wa_id, phone_number_id=BUSINESS, name=name, language="es")


def case(handoff_id: str = "ho-1", wa_id: str = WA_ID) -> CrmCase:
    return CrmCase(
        handoff_id=handoff_id,
        conversation=f"{BUSINESS}:{wa_id}",
        subject="Customer asked for a person",
        description="Reason: explicit request\nLast messages: [redacted]",
        reason="customer_request",
        priority="high",
    )


def closing(handoff_id: str = "ho-1") -> CrmCaseUpdate:
    return CrmCaseUpdate(
        handoff_id=handoff_id, outcome="refund issued", summary="Agent refunded order 123."
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def syncer(crm: Crm, sleeps: Sleeps | None = None, **policy: Any) -> CrmSync:
    return CrmSync(
        lambda _: crm, RetryPolicy(**policy), sleep=Sleeps() if sleeps is None else sleeps
    )


def records(sim: Sim, provider: str, crm: Crm) -> tuple[list[Any], list[Any]]:
    """(contacts, cases) as the CRM holds them."""
    if isinstance(crm, InMemoryCrm):
        return list(crm.contacts.values()), list(crm.cases.values())
    state = sim.state()
    if provider == "salesforce":
        return state["salesforce"]["Contact"], state["salesforce"]["Case"]
    if provider == "hubspot":
        return state["hubspot"]["contacts"], state["hubspot"]["tickets"]
    return state["webhook"]["contacts"], state["webhook"]["cases"]


def case_view(sim: Sim, provider: str, crm: Crm) -> dict[str, Any]:
    """(status, resolution text) of the only case, in a common shape."""
    (found,) = records(sim, provider, crm)[1]
    if provider == "salesforce":
        closed = found["Status"] == "Closed"
        return {"closed": closed, "text": found.get("Parley_Resolution__c") or ""}
    if provider == "hubspot":
        props = found["properties"]
        return {"closed": props["hs_pipeline_stage"] == "4", "text": props.get("parley_resolution")}
    text = found.get("resolution") or f"{found.get('outcome')} {found.get('summary')}"
    return {"closed": found["status"] in ("resolved", "expired"), "text": text}


@pytest.fixture(params=[*REAL, "memory"])
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def crm(sim: Sim, provider: str) -> Crm:
    return InMemoryCrm() if provider == "memory" else sim.crm(provider)


# -- the contract, on every adapter ---------------------------------------------------------------


def test_replaying_a_handoff_five_times_leaves_one_contact_and_one_case(
    sim: Sim, provider: str, crm: Crm
) -> None:
    sync = syncer(crm)

    links = [sync.open_case(contact(), case()) for _ in range(5)]

    contacts, cases = records(sim, provider, crm)
    assert (len(contacts), len(cases)) == (1, 1)
    assert len({link.case_id for link in links}) == 1
    assert links[0].created in (True, None) and all(not link.created for link in links[1:])
    assert links[0].contact_id and links[0].provider == crm.provider


def test_resolving_closes_the_case_with_outcome_and_summary(
    sim: Sim, provider: str, crm: Crm
) -> None:
    sync = syncer(crm)
    opened = sync.open_case(contact(), case())

    closed = sync.close_case(BUSINESS, closing())

    assert closed.case_id == opened.case_id
    view = case_view(sim, provider, crm)
    assert view["closed"]
    assert "refund issued" in view["text"] and "Agent refunded order 123." in view["text"]


def test_a_replayed_open_never_reopens_a_closed_case(sim: Sim, provider: str, crm: Crm) -> None:
    sync = syncer(crm)
    sync.open_case(contact(), case())
    sync.close_case(BUSINESS, closing())

    sync.open_case(contact(), case())

    assert case_view(sim, provider, crm)["closed"]
    assert len(records(sim, provider, crm)[1]) == 1


def test_closing_a_case_the_crm_lacks_is_retryable_from_the_queue(crm: Crm) -> None:
    with pytest.raises(CrmCaseNotFound) as caught:
        crm.update_case(closing("ho-never-opened"))

    assert caught.value.retryable


def test_erasing_a_customer_deletes_their_contact_and_cases_only(
    sim: Sim, provider: str, crm: Crm
) -> None:
    sync = syncer(crm)
    sync.open_case(contact(), case("ho-1"))
    sync.open_case(contact(), case("ho-2"))
    sync.open_case(contact(OTHER_WA_ID), case("ho-3", OTHER_WA_ID))

    erased = sync.erase_customer(BUSINESS, WA_ID, ("ho-1",))

    assert len(erased.contact_ids) == 1 and len(erased.case_ids) == 2
    contacts, cases = records(sim, provider, crm)
    assert (len(contacts), len(cases)) == (1, 1)
    again = crm.erase_customer(WA_ID, ("ho-1", "ho-2"))
    assert (again.contact_ids, again.case_ids) == ((), ())


# -- an unavailable CRM: retried, then requeued; created once it is back ---------------------------


@pytest.mark.parametrize("provider", REAL)
def test_a_crm_answering_503_is_retried_with_backoff_within_the_call(
    sim: Sim, provider: str
) -> None:
    sim.fault(target=provider, status=503, fail_next=2)
    sleeps = Sleeps()

    link = syncer(sim.crm(provider), sleeps, attempts=3).open_case(contact(), case())

    assert link.case_id and len(sleeps) == 2
    assert sim.state()["faulted"][provider] == 2
    contacts, cases = records(sim, provider, sim.crm(provider))
    assert (len(contacts), len(cases)) == (1, 1)


@pytest.mark.parametrize("provider", REAL)
def test_a_crm_that_stays_down_raises_retryable_and_the_case_is_created_when_it_is_back(
    sim: Sim, provider: str
) -> None:
    crm = sim.crm(provider)
    sim.fault(target=provider, status=503, down=True)
    sleeps = Sleeps()

    with pytest.raises(CrmUnavailable) as caught:
        syncer(crm, sleeps, attempts=4, backoff_base=1.0, backoff_max=8.0).open_case(
            contact(), case()
        )

    assert caught.value.retryable and caught.value.status == 503
    assert sim.state()["faulted"][provider] == 4 and len(sleeps) == 3
    assert all(0 <= s <= 8.0 for s in sleeps)
    assert records(sim, provider, crm) == ([], [])

    sim.clear_faults()  # the CRM is back; SQS delivers the job again (a new invocation)
    for _ in range(2):
        syncer(crm).open_case(contact(), case())

    contacts, cases = records(sim, provider, crm)
    assert (len(contacts), len(cases)) == (1, 1)


@pytest.mark.parametrize("provider", ["hubspot", "webhook"])
def test_retry_after_is_waited_for_when_short_and_left_to_the_queue_when_long(
    sim: Sim, provider: str
) -> None:
    crm = sim.crm(provider)
    sim.fault(target=provider, status=429, fail_next=1, retry_after=3)
    sleeps = Sleeps()
    syncer(crm, sleeps, backoff_max=0.5).open_case(contact(), case())
    assert sleeps == [3.0]

    sim.fault(target=provider, status=429, fail_next=1, retry_after=120)
    sleeps = Sleeps()
    with pytest.raises(CrmUnavailable) as caught:
        syncer(crm, sleeps).close_case(BUSINESS, closing())
    assert sleeps == [] and caught.value.retry_after == 120.0


def test_after_a_job_spends_its_budget_the_next_jobs_fail_fast(sim: Sim) -> None:
    crm = sim.crm("hubspot")
    sync = syncer(crm, attempts=2)
    sim.fault(target="hubspot", status=503, down=True)
    with pytest.raises(CrmUnavailable):
        sync.open_case(contact(), case())
    sent = sim.state()["requests"]["hubspot"]

    with pytest.raises(CrmUnavailable) as caught:
        sync.open_case(contact(), case("ho-2"))

    assert caught.value.detail["circuit"] == "open" and caught.value.retryable
    assert sim.state()["requests"]["hubspot"] == sent


# -- refusals are permanent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "extra"),
    [
        ("salesforce", {"resolution_field": "Nope__c"}),
        ("hubspot", {"resolution_property": "nope"}),
    ],
)
def test_a_validation_error_is_permanent_and_not_retried(
    sim: Sim, provider: str, extra: dict[str, Any]
) -> None:
    crm = sim.crm(provider, **extra)
    sleeps = Sleeps()
    sync = syncer(crm, sleeps)
    sync.open_case(contact(), case())

    with pytest.raises(CrmRejected) as caught:
        sync.close_case(BUSINESS, closing())

    assert not caught.value.retryable and caught.value.status == 400 and sleeps == []


def test_the_webhook_receiver_verifies_the_signature(sim: Sim) -> None:
    forged = sim.crm("webhook", signing_secret="not-the-local-crm-signing-secret")
    with pytest.raises(CrmRejected) as caught:
        syncer(forged).open_case(contact(), case())
    assert caught.value.status == 401 and sim.state()["webhook"]["refused"] == 1

    body = b'{"event_id": "e1", "type": "contact.upsert", "data": {"wa_id": "1555"}}'
    signed = {"X-Parley-Signature": sign(body, SIM.signing_secret), "X-Parley-Event-Id": "e1"}
    answers = [sim.http.post(f"{sim.url}/_crm/cases", data=body, headers=signed) for _ in "ab"]

    assert [a.status_code for a in answers] == [200, 200]
    webhook = sim.state()["webhook"]
    assert len(webhook["contacts"]) == 1 and webhook["duplicates"] == 1
    assert webhook["refused"] == 1


@pytest.mark.parametrize(
    ("provider", "key", "value"),
    [
        ("salesforce", "session_id", "<session id>"),
        ("hubspot", "access_token", "change-me"),
        ("webhook", "signing_secret", "placeholder"),
        ("webhook", "signing_secret", ""),
    ],
)
def test_a_placeholder_credential_refuses_to_send(
    sim: Sim, provider: str, key: str, value: str
) -> None:
    crm = sim.crm(provider, **{key: value})

    with pytest.raises(SecretNotSet) as caught:
        syncer(crm).open_case(contact(), case())

    assert f"CRM {key} is not set" in str(caught.value) and not caught.value.retryable
    assert sim.state()["requests"][provider] == 0


# -- adapter specifics ---------------------------------------------------------------------------


def test_salesforce_keys_records_on_external_ids_and_links_the_case(sim: Sim) -> None:
    link = syncer(sim.crm("salesforce")).open_case(contact(), case())

    sf = sim.state()["salesforce"]
    (person,), (found,) = sf["Contact"], sf["Case"]
    assert person["WhatsApp_Id__c"] == WA_ID and person["MobilePhone"] == f"+{WA_ID}"
    assert (person["FirstName"], person["LastName"]) == ("Alex", "Demo")
    assert found["Parley_Handoff_Id__c"] == "ho-1" and found["ContactId"] == person["Id"]
    assert (found["Priority"], found["Origin"], found["Status"]) == ("High", "WhatsApp", "New")
    assert link.url == f"{sim.url}/lightning/r/Case/{found['Id']}/view"


def test_salesforce_can_keep_customers_as_leads(sim: Sim) -> None:
    crm = sim.crm("salesforce", contact_object="Lead", lead_company="Demo Co")

    syncer(crm).open_case(contact(name=None), case())

    sf = sim.state()["salesforce"]
    (lead,) = sf["Lead"]
    assert sf["Contact"] == [] and lead["Company"] == "Demo Co"
    assert lead["LastName"] == f"WhatsApp +{WA_ID}"
    assert sf["Case"][0].get("ContactId") is None


def test_hubspot_associates_the_ticket_and_survives_a_create_race(sim: Sim) -> None:
    racer = http_session(verify=sim.http.verify)
    headers = {"Authorization": f"Bearer {SIM.hubspot_token}"}

    class RacingSession(requests.Session):
        """Another invocation creates the contact between our PATCH (404) and our POST."""

        def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:
            answer = sim.http.request(method, url, *a, **kw)  # type: ignore[arg-type]
            if method == "PATCH" and "/contacts/" in str(url) and answer.status_code == 404:
                body = {"properties": {"whatsapp_id": WA_ID}}
                racer.post(f"{sim.url}/crm/v3/objects/contacts", json=body, headers=headers)
            return answer

    crm = build_crm(sim.config("hubspot", portal_id="4242"), session=RacingSession())
    link = syncer(crm).open_case(contact(), case())

    hs = sim.state()["hubspot"]
    (person,), (ticket,) = hs["contacts"], hs["tickets"]
    assert person["properties"]["firstname"] == "Alex"  # the PATCH after the 409 applied
    assert hs["associations"] == [{"ticket": ticket["id"], "contact": person["id"]}]
    assert ticket["properties"]["hs_ticket_priority"] == "HIGH"
    assert link.url == f"https://app.hubspot.com/contacts/4242/record/0-5/{ticket['id']}"


def test_the_local_simulator_serves_the_webhook_receiver_over_http() -> None:
    running = start_in_thread()
    try:
        config = {
            "provider": "webhook",
            "webhook_url": f"{running.url}/_crm/cases",
            "signing_secret": SIM.signing_secret,
        }
        link = syncer(build_crm(config)).open_case(contact(), case())
        state = requests.get(f"{running.url}/_crm/state", timeout=5).json()
    finally:
        running.stop()
    assert len(state["webhook"]["cases"]) == 1 and link.url and link.url.startswith(running.url)


# -- configuration and jobs ----------------------------------------------------------------------


def test_the_crm_is_chosen_per_business_and_rebuilt_when_the_secret_changes(sim: Sim) -> None:
    secret: dict[str, Any] = {
        **sim.config("webhook"),
        "businesses": {"200000000000002": sim.config("hubspot")},
    }
    directory = CrmDirectory("parley/test/crm", read_secret=lambda _: secret, session=sim.http)

    default, hubspot = directory(BUSINESS), directory("200000000000002")

    assert (default.provider, hubspot.provider) == ("webhook", "hubspot")
    assert directory(BUSINESS) is default
    secret["provider"] = "none"
    assert isinstance(directory(BUSINESS), NullCrm)


def test_a_misconfigured_crm_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="provider must be one of"):
        build_crm({"provider": "dynamics"})
    with pytest.raises(ConfigurationError, match="webhook_url"):
        build_crm({"provider": "webhook", "signing_secret": "x" * 32})
    with pytest.raises(ConfigurationError, match="contact_object"):
        build_crm({"provider": "salesforce", "contact_object": "Account"})


@pytest.mark.parametrize(
    ("secret", "keys"),
    [
        ({"provider": "webhook"}, ["signing_secret"]),
        ({"provider": "hubspot"}, ["access_token"]),
        ({"provider": "salesforce", "instance_url": "https://x"}, ["session_id"]),
        ({"provider": "salesforce", "username": "u"}, ["password", "security_token"]),
        ({"provider": "none"}, []),
    ],
)
def test_health_checks_the_credentials_of_the_configured_provider(
    secret: dict[str, Any], keys: list[str]
) -> None:
    assert [c.key for c in crm_credentials("parley/test/crm", secret)] == keys


def test_jobs_travel_as_json_in_their_own_group_and_run() -> None:
    crm = InMemoryCrm()
    sync = CrmSync(lambda _: crm, sleep=Sleeps())
    opening = OpenCaseJob(
        conversation=f"{BUSINESS}:{WA_ID}", phone_number_id=BUSINESS, contact=contact(), case=case()
    )
    ending = CloseCaseJob(
        conversation=opening.conversation, phone_number_id=BUSINESS, update=closing()
    )

    results = [sync.run(parse_job(job.model_dump_json())) for job in (opening, ending)]

    assert crm_group(opening.conversation) == f"crm:{BUSINESS}:{WA_ID}"
    assert [r.case_id for r in results] == ["K1", "K1"]  # type: ignore[union-attr]
    assert crm.cases["ho-1"]["status"] == "resolved"


def test_in_memory_faults_are_retried_like_real_ones() -> None:
    crm = InMemoryCrm()
    crm.fail_next(CrmUnavailable("down"), times=2)
    sleeps = Sleeps()

    syncer(crm, sleeps).open_case(contact(), case())

    assert len(sleeps) == 2 and len(crm.cases) == 1
