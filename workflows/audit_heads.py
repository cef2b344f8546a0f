"""The audit-heads job (Temporal Schedule `vcs-audit-heads`, hourly; workflows/schedules.py):
seals the audit entries the console and the CLI wrote and exports each changed chain's head to
write-once storage (activities/audit_heads.py). The history carries counts and a file name."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.audit_heads import AuditHeadActivities, AuditHeadsResult

from workflows.common import DB_RETRY


@workflow.defn(name="AuditHeads")
class AuditHeadsWorkflow:
    @workflow.run
    async def run(self) -> AuditHeadsResult:
        result: AuditHeadsResult = await workflow.execute_activity_method(
            AuditHeadActivities.export_audit_heads,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=DB_RETRY,
            summary="seal the audit trail and export its heads",
        )
        return result
