"""The AWS side of the tests: one moto server holding an IAM user, a role and the Lambda function.

Everything is created while moto's signature checking is still off; then checking is turned
on, so from there on moto accepts only requests signed with the keys created here.
"""

import io
import json
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import botocore.session
import requests
from botocore.config import Config

from .paths import MOTO_SERVER
from .processes import free_port, stop_process

REGION = "us-east-1"
FUNCTION_NAME = "authentication"
FUNCTION_ALIAS = "live"
USER_NAME = "mesh-lambda-e2e"
ROLE_NAME = "mesh-lambda-e2e-role"
POLICY_NAME = "mesh-lambda-e2e-invoke"

_ALLOW_LAMBDA_AND_STS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["lambda:*", "sts:*"], "Resource": "*"}],
}
_TRUST_LAMBDA_AND_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com", "AWS": "*"},
            "Action": "sts:AssumeRole",
        }
    ],
}
_HANDLER_SOURCE = "def handler(event, context):\n    return event\n"


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def as_environment(self) -> dict[str, str]:
        """The variables the filter reads (through host_env_keys) for these credentials."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token is not None:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def with_secret(self, secret_access_key: str) -> "AwsCredentials":
        return AwsCredentials(self.access_key_id, secret_access_key, self.session_token)


@dataclass(frozen=True)
class LambdaWorld:
    """What the moto server holds once provisioned."""

    endpoint: str  # http://127.0.0.1:PORT
    account_id: str
    function_arn: str  # unqualified
    user_credentials: AwsCredentials  # long-term key of the IAM user
    session_credentials: AwsCredentials  # STS AssumeRole result

    @property
    def region(self) -> str:
        return REGION

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def credentials_by_access_key(self) -> dict[str, AwsCredentials]:
        """The secrets the capture hop verifies signatures with, keyed by access key id."""
        return {
            creds.access_key_id: creds
            for creds in (self.user_credentials, self.session_credentials)
        }


class MotoServer:
    """A `moto_server` subprocess on 127.0.0.1."""

    def __init__(self, log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 30.0) -> None:
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited early:\n{self.log_text()}")
            try:
                requests.get(f"{self.endpoint}/moto-api/data.json", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"moto_server not ready after {ready_timeout}s:\n{self.log_text()}")

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)

    def log_text(self) -> str:
        return self._log_path.read_text(errors="replace")

    def configure_lambda_without_docker(self) -> None:
        answer = requests.post(
            f"{self.endpoint}/moto-api/config",
            json={"lambda": {"use_docker": False}},
            timeout=10,
        )
        answer.raise_for_status()

    def turn_signature_checking_on(self) -> None:
        answer = requests.post(
            f"{self.endpoint}/moto-api/reset-auth",
            data=b"0",
            headers={"Content-Type": "text/plain"},
            timeout=10,
        )
        answer.raise_for_status()

    def client(self, service: str, credentials: AwsCredentials):
        return botocore_client(self.endpoint, service, credentials)


def botocore_client(endpoint: str, service: str, credentials: AwsCredentials):
    """A botocore client pointed at moto (no retries, bounded timeouts)."""
    return botocore.session.Session().create_client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", _HANDLER_SOURCE)
    return buffer.getvalue()


def provision(moto: MotoServer) -> LambdaWorld:
    """Create user, key, policy, role and function; turn auth on; assume the role."""
    moto.configure_lambda_without_docker()
    bootstrap = AwsCredentials("AKIDBOOTSTRAP", "bootstrap-secret-unused-while-auth-is-off")
    iam = moto.client("iam", bootstrap)
    iam.create_user(UserName=USER_NAME)
    key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
    user_credentials = AwsCredentials(key["AccessKeyId"], key["SecretAccessKey"])
    policy_arn = iam.create_policy(
        PolicyName=POLICY_NAME, PolicyDocument=json.dumps(_ALLOW_LAMBDA_AND_STS)
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=USER_NAME, PolicyArn=policy_arn)
    role_arn = iam.create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(_TRUST_LAMBDA_AND_ACCOUNT)
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=policy_arn)

    lambda_client = moto.client("lambda", bootstrap)
    function = lambda_client.create_function(
        FunctionName=FUNCTION_NAME,
        Runtime="python3.12",
        Role=role_arn,
        Handler="lambda_function.handler",
        Code={"ZipFile": _function_zip()},
    )
    version = lambda_client.publish_version(FunctionName=FUNCTION_NAME)["Version"]
    lambda_client.create_alias(
        FunctionName=FUNCTION_NAME, Name=FUNCTION_ALIAS, FunctionVersion=version
    )
    function_arn = function["FunctionArn"]
    account_id = function_arn.split(":")[4]

    moto.turn_signature_checking_on()
    assumed = moto.client("sts", user_credentials).assume_role(
        RoleArn=role_arn, RoleSessionName="mesh-lambda-e2e"
    )["Credentials"]
    session_credentials = AwsCredentials(
        assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
    )
    return LambdaWorld(
        endpoint=moto.endpoint,
        account_id=account_id,
        function_arn=function_arn,
        user_credentials=user_credentials,
        session_credentials=session_credentials,
    )
