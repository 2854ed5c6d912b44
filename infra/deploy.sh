#!/usr/bin/env bash
# Deploy Parley to AWS: `make deploy STAGE=dev PREFIX=parley` (or bash infra/deploy.sh dev parley).
#
#   1. infra/template.yaml as stack <prefix>-<stage>-shared (AWS CLI if installed, else boto3)
#   2. stack outputs -> stage section of every services/*/.chalice/config.json
#      (real resource names, REDIS_URL, AWS_ACCOUNT_ID, subnet_ids, security_group_ids)
#   3. chalice deploy --stage <stage> for every service
#   4. ReportBatchItemFailures on every SQS event source mapping Chalice created, and the
#      on-failure destination (the topic's DLQ) of every SNS-subscribed function
#      (Chalice can set neither; later deploys keep both)
#
# Environment:
#   PARLEY_SUBNET_IDS   required: comma-separated private subnets (Lambda functions and the cache)
#   PARLEY_VPC_ID       optional: VPC of those subnets (looked up from the subnets when unset)
#   PARLEY_CFN_BUCKET   S3 bucket for the template (required: it is over CloudFormation's
#                       51,200-byte inline limit)
#   PARLEY_ALARM_EMAIL  optional: e-mail subscribed to the ops-alarms topic
#   AWS_PROFILE / AWS_ACCESS_KEY_ID ..., AWS_DEFAULT_REGION: the usual AWS SDK settings
#
# Chalice keeps what it deployed in services/<svc>/.chalice/deployed/<stage>.json (git-ignored):
# keep those files (or sync them to S3 in CI), or the next deploy creates duplicate resources.
set -euo pipefail

STAGE="${1:-}"
PREFIX="${2:-parley}"
SERVICES=(ingestion ai_processing context media escalation)

die() { echo "deploy: $*" >&2; exit 1; }

[[ "$STAGE" == "dev" || "$STAGE" == "prod" ]] || die "usage: infra/deploy.sh dev|prod [prefix]"
[[ "$PREFIX" =~ ^[a-z][a-z0-9-]{1,20}$ ]] || die "prefix must match ^[a-z][a-z0-9-]{1,20}$"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || PY="$(command -v python3)"
CHALICE="$ROOT/.venv/bin/chalice"
[[ -x "$CHALICE" ]] || CHALICE="$(command -v chalice)" || die "chalice is not installed (make setup)"
STACK="${PREFIX}-${STAGE}-shared"

config() { "$PY" -m infra.deploy_config "$@"; }

# --- 0. preconditions: credentials, region, network parameters ---------------------------------
[[ -n "${AWS_DEFAULT_REGION:-${AWS_REGION:-}}" ]] || die "set AWS_DEFAULT_REGION"
config check-credentials || die "refusing to deploy without working AWS credentials"
[[ -n "${PARLEY_SUBNET_IDS:-}" ]] || die "set PARLEY_SUBNET_IDS=subnet-a,subnet-b (private subnets)"
SUBNET_IDS="${PARLEY_SUBNET_IDS// /}"
template_bytes="$(wc -c <infra/template.yaml)"
if ((template_bytes > 51200)) && [[ -z "${PARLEY_CFN_BUCKET:-}" ]]; then
  die "infra/template.yaml is $template_bytes bytes (> 51,200): set PARLEY_CFN_BUCKET to an S3" \
    "bucket in this account and region for CloudFormation to read it from"
fi
VPC_ID="${PARLEY_VPC_ID:-$(config vpc-id --subnet-ids "$SUBNET_IDS")}"
if [[ "$PREFIX" != "parley" ]]; then
  echo "deploy: warning: services/*/.chalice/policy-$STAGE.json name parley-$STAGE-* resources;" \
    "with prefix $PREFIX they must be updated or the functions will be denied access" >&2
fi

# --- 1. shared stack ---------------------------------------------------------------------------
echo "== 1/4 stack $STACK"
if command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then
  extra=()
  if [[ -n "${PARLEY_CFN_BUCKET:-}" ]]; then
    extra+=(--s3-bucket "$PARLEY_CFN_BUCKET" --s3-prefix "cloudformation/$STACK")
  fi
  params=("Stage=$STAGE" "Prefix=$PREFIX" "VpcId=$VPC_ID" "SubnetIds=$SUBNET_IDS")
  [[ -z "${PARLEY_ALARM_EMAIL:-}" ]] || params+=("AlarmEmail=$PARLEY_ALARM_EMAIL")
  aws cloudformation deploy \
    --template-file infra/template.yaml \
    --stack-name "$STACK" \
    --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset \
    ${extra[@]+"${extra[@]}"} \
    --parameter-overrides "${params[@]}"
else
  echo "(AWS CLI not found: using boto3)"
  config deploy-stack --stage "$STAGE" --prefix "$PREFIX" --vpc-id "$VPC_ID" \
    --subnet-ids "$SUBNET_IDS" --alarm-email "${PARLEY_ALARM_EMAIL:-}" \
    ${PARLEY_CFN_BUCKET:+--s3-bucket "$PARLEY_CFN_BUCKET"}
fi

# --- 2. stack outputs -> .chalice/config.json --------------------------------------------------
echo "== 2/4 stack outputs -> services/*/.chalice/config.json (stage $STAGE)"
config write-config --stage "$STAGE" --prefix "$PREFIX" --subnet-ids "$SUBNET_IDS"

# --- 3. chalice deploy -------------------------------------------------------------------------
for svc in "${SERVICES[@]}"; do
  echo "== 3/4 chalice deploy $svc ($STAGE)"
  (cd "services/$svc" && "$CHALICE" deploy --stage "$STAGE")
done

# --- 4. partial batch responses on the SQS event source mappings -------------------------------
echo "== 4/4 ReportBatchItemFailures on SQS event sources"
config fix-event-sources --stage "$STAGE"
echo "deployed $PREFIX-$STAGE"
