"""Registry: post-enactment evaluation (立法后评估) and cleanup campaigns (清理)."""

from __future__ import annotations

import argparse

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import views_registry
from normreg_cli.command import Context, Subparsers, add_command, add_group
from normreg_cli.enums import CLEANUP_OUTCOME, CONCLUSION
from normreg_cli.options import campaign_name, document_name


async def evaluate(ctx: Context, args: argparse.Namespace) -> None:
    evaluation = await ctx.clients.registry.RecordEvaluation(
        rpb.RecordEvaluationRequest(
            name=args.name,
            evaluator=args.evaluator,
            method=args.method,
            findings=args.findings,
            conclusion=CONCLUSION.value(args.conclusion),
        )
    )
    ctx.show(evaluation, lambda: views_registry.evaluation(evaluation, ctx.tz))


async def evaluations(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.ListEvaluations(rpb.ListEvaluationsRequest(parent=args.name))
    ctx.show(response, lambda: views_registry.evaluations(response))


async def due_evaluations(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.ListDueEvaluations(rpb.ListDueEvaluationsRequest())
    ctx.show(response, lambda: views_registry.due_evaluations(response))


async def cleanup_create(ctx: Context, args: argparse.Namespace) -> None:
    campaign = await ctx.clients.registry.CreateCleanupCampaign(
        rpb.CreateCleanupCampaignRequest(request_id=args.request_id, title=args.title, documents=args.documents)
    )
    ctx.show(campaign, lambda: views_registry.campaign(campaign, ctx.tz))


async def cleanup_outcome(ctx: Context, args: argparse.Namespace) -> None:
    outcome = pb.CleanupOutcome(
        document=args.document,
        outcome=CLEANUP_OUTCOME.value(args.outcome),
        reason=args.reason,
        missing_procedure=args.missing_procedure,
        remedy=args.remedy,
    )
    campaign = await ctx.clients.registry.RecordCleanupOutcome(
        rpb.RecordCleanupOutcomeRequest(name=args.campaign, outcome=outcome)
    )
    ctx.show(campaign, lambda: views_registry.campaign(campaign, ctx.tz))


async def cleanup_apply(ctx: Context, args: argparse.Namespace) -> None:
    campaign = await ctx.clients.registry.ApplyCleanupCampaign(rpb.ApplyCleanupCampaignRequest(name=args.campaign))
    ctx.show(campaign, lambda: views_registry.campaign(campaign, ctx.tz))


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "evaluate", evaluate, "evaluator: record a post-enactment evaluation")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    p.add_argument("--evaluator", required=True, help="who evaluated, e.g. 某大学法学院")
    p.add_argument("--method", required=True, help="e.g. 问卷调查、座谈")
    p.add_argument("--findings", required=True)
    p.add_argument("--conclusion", required=True, type=CONCLUSION.parse, metavar="WORD", help=CONCLUSION.help())

    p = add_command(subparsers, "evaluations", evaluations, "a document's evaluations and what each led to")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    add_command(
        subparsers, "due-evaluations", due_evaluations, "registrar, evaluator: documents whose evaluation is due"
    )

    group = add_group(subparsers, "cleanup", "registrar: cleanup campaigns (create, outcome, apply)")
    p = add_command(group, "create", cleanup_create, "start a campaign over documents in force")
    p.add_argument("--title", required=True, help="e.g. 2026年规范性文件清理")
    p.add_argument("documents", nargs="+", type=document_name, metavar="DOCUMENT")
    p.add_argument("--request-id", default="", metavar="ID")

    p = add_command(group, "outcome", cleanup_outcome, "record the outcome for one document")
    p.add_argument("campaign", type=campaign_name, metavar="CAMPAIGN", help="cleanupCampaigns/{id} or the id")
    p.add_argument("document", type=document_name, metavar="DOCUMENT")
    p.add_argument("outcome", type=CLEANUP_OUTCOME.parse, metavar="OUTCOME", help=CLEANUP_OUTCOME.help())
    p.add_argument("--reason", default="")
    p.add_argument("--missing-procedure", default="", metavar="TEXT", help="re-review found this procedure missing")
    p.add_argument("--remedy", default="", metavar="TEXT", help="the recorded remedy (补正) for it")

    p = add_command(group, "apply", cleanup_apply, "perform every outcome of the campaign, or none")
    p.add_argument("campaign", type=campaign_name, metavar="CAMPAIGN")
