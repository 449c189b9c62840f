"""Every case kind's workflow class, for workers and the replayer."""

from workflows.internship_subsidy import InternshipSubsidyWorkflow

WORKFLOWS: list[type] = [InternshipSubsidyWorkflow]
