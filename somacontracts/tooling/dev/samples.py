"""One example object of every contract, for the demo and the benchmark."""

from __future__ import annotations

import datetime
import uuid

from somacontracts.models import (
    ConversationEvent,
    ConversationEventMetadata,
    ConversationEventType,
    ConversationRole,
    DelegatedTask,
    DelegatedTaskMetadata,
    SettingsChangeKind,
    SettingsPayload,
    SettingsPayloadMetadata,
    ToolInvocation,
    ToolInvocationMetadata,
    ToolResult,
    ToolResultMetadata,
    ToolResultMetrics,
    ToolResultStatus,
)
from somacontracts.serde import ContractModel

__all__ = ["sample_invocation", "samples"]


def sample_invocation(
    *, tenant_id: str = "tenant-a", correlation_id: str | None = None
) -> ToolInvocation:
    """A shell tool call for ``tenant_id``."""
    return ToolInvocation(
        task_id=uuid.uuid4(),
        tenant_id=tenant_id,
        persona="agent0",
        tool_name="shell",
        payload={"command": "echo hello"},
        metadata=ToolInvocationMetadata(
            requested_by="gateway",
            timestamp=datetime.datetime.now(datetime.UTC),
            correlation_id=correlation_id,
        ),
    )


def samples(tenant_id: str = "tenant-a") -> list[ContractModel]:
    """One object of each contract, in catalog order, all for ``tenant_id``."""
    now = datetime.datetime.now(datetime.UTC)
    invocation = sample_invocation(tenant_id=tenant_id, correlation_id="demo-1")
    return [
        invocation,
        ToolResult(
            task_id=invocation.task_id,
            status=ToolResultStatus.success,
            output={"stdout": "hello\n", "stderr": ""},
            metrics=ToolResultMetrics(duration_ms=12),
            metadata=ToolResultMetadata(
                tenant_id=tenant_id, correlation_id="demo-1", timestamp=now
            ),
        ),
        ConversationEvent(
            event_id=uuid.uuid4(),
            conversation_id="conv-1",
            tenant_id=tenant_id,
            sequence=1,
            type=ConversationEventType.message,
            role=ConversationRole.user,
            content="hello",
            metadata=ConversationEventMetadata(source="gateway", timestamp=now),
        ),
        SettingsPayload(
            tenant_id=tenant_id,
            revision=1,
            kind=SettingsChangeKind.snapshot,
            settings={"model": "default"},
            metadata=SettingsPayloadMetadata(published_by="config-publisher", timestamp=now),
        ),
        DelegatedTask(
            task_id=uuid.uuid4(),
            type="schedule:run",
            payload={},
            tenant_id=tenant_id,
            metadata=DelegatedTaskMetadata(requested_by="orchestrator", timestamp=now),
        ),
    ]
