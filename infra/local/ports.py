"""Fixed local ports used by `make run` (tests pick free ports instead)."""

SIMULATOR = 8000
SERVICES: dict[str, int] = {
    "ingestion": 8001,
    "ai_processing": 8002,
    "context": 8003,
    "media": 8004,
    "escalation": 8005,
}
MOTO = 4566
REDIS = 6380
DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_DISPLAY_NUMBER = "15550001111"
DEMO_WABA_ID = "200000000000001"
GRAPH_API_VERSION = "v21.0"
