"""The escalation service's CRM integration: adapters behind `parley.crm.Crm`, built per business
from the CRM secret (`factory`), and the retry/requeue contract of CRM jobs (`sync`).

    directory = CrmDirectory(settings.crm_secret_id)   # phone_number_id → adapter
    crm_sync = CrmSync(directory)                       # one per container
    link = crm_sync.run(parse_job(body))                # CrmLink (or CrmErasure)

Adapters (`salesforce`, `hubspot`, `webhook`) import their HTTP clients on first use.
"""

from chalicelib.crm.factory import CrmDirectory, build_crm, business_config, crm_credentials
from chalicelib.crm.memory import InMemoryCrm, NullCrm
from chalicelib.crm.sync import (
    CloseCaseJob,
    CrmJob,
    CrmSync,
    EraseCustomerJob,
    OpenCaseJob,
    RetryPolicy,
    crm_group,
    parse_job,
)

__all__ = [
    "CloseCaseJob",
    "CrmDirectory",
    "CrmJob",
    "CrmSync",
    "EraseCustomerJob",
    "InMemoryCrm",
    "NullCrm",
    "OpenCaseJob",
    "RetryPolicy",
    "build_crm",
    "business_config",
    "crm_credentials",
    "crm_group",
    "parse_job",
]
