"""The admin console's question log and usage charts, read from the audit log through the
assistant (``Assistant.audit``, ``Assistant.usage``)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .context import AppContext
from .render import local_time


def recent(
    ctx: AppContext, only_negative: bool, only_refused: bool, user: str, request: gr.Request
) -> pd.DataFrame:
    """The latest 200 questions (filtered), one row each."""
    ctx.admin(request)
    t = ctx.t
    rows = ctx.assistant.audit.recent(
        200, bool(only_negative), bool(only_refused), (user or "").strip() or None
    )
    data = [
        [
            local_time(r.time),
            r.user,
            r.question,
            t["refused"] if r.refused else t["answered"],
            "；".join(f"《{s.title}》{'、'.join(s.articles)}" for s in r.sources),
            {1: "👍", -1: "👎"}.get(r.rating, ""),
            r.comment,
            round(float(r.latency_ms or 0)),
        ]
        for r in rows
    ]
    return pd.DataFrame(data, columns=t["log_cols"].split("|"))


def usage(ctx: AppContext, days: int, request: gr.Request) -> tuple[pd.DataFrame, ...]:
    """Questions per day, refusal and thumbs-down rates, most cited and never cited documents."""
    ctx.admin(request)
    t = ctx.t
    stats = ctx.assistant.usage(int(days or 30))
    per_day = stats["per_day"]
    day, n, metric, rate = t["col_day"], t["col_questions"], t["col_metric"], t["col_rate"]
    questions = pd.DataFrame(
        {day: [d["day"][5:] for d in per_day], n: [d["questions"] for d in per_day]}
    )  # MM-DD labels: 30 full dates do not fit under the bars
    rates = pd.DataFrame(
        [
            {day: pd.Timestamp(d["day"]), metric: t[name], rate: d[name]}
            for name in ("refusal_rate", "negative_rate")
            for d in per_day
        ]
    )
    top = pd.DataFrame(
        {
            t["col_doc"]: [d["title"] for d in stats["top_documents"]],
            t["col_citations"]: [d["citations"] for d in stats["top_documents"]],
        }
    )
    never = pd.DataFrame({t["never_cited"]: stats["never_cited"]})
    return questions, rates, top, never


@dataclass(frozen=True)
class InsightsView:
    only_negative: gr.Checkbox
    only_refused: gr.Checkbox
    user_filter: gr.Textbox
    log_refresh: gr.Button
    log_table: gr.Dataframe
    days: gr.Dropdown
    plots: tuple[gr.BarPlot, gr.LinePlot, gr.BarPlot, gr.Dataframe]


def log_tab(label) -> tuple[gr.Checkbox, gr.Checkbox, gr.Textbox, gr.Button, gr.Dataframe]:
    with gr.Tab(label("admin_log")):
        with gr.Row():
            only_negative = gr.Checkbox(label=label("only_negative"), value=False)
            only_refused = gr.Checkbox(label=label("only_refused"), value=False)
            user_filter = gr.Textbox(label=label("user_filter"), scale=2)
            log_refresh = gr.Button(label("refresh"), size="sm")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="pq-log")
    return only_negative, only_refused, user_filter, log_refresh, table


def usage_tab(
    t, ctx_label
) -> tuple[gr.Dropdown, tuple[gr.BarPlot, gr.LinePlot, gr.BarPlot, gr.Dataframe]]:
    with gr.Tab(ctx_label("admin_usage")):
        days = gr.Dropdown(label=ctx_label("days"), choices=[7, 30, 90], value=30)
        with gr.Row():
            per_day = gr.BarPlot(
                x=t["col_day"],
                y=t["col_questions"],
                title=t["plot_questions"],
                x_label_angle=-45,
                y_lim=[0, None],
                elem_id="pq-plot-questions",
            )
            rates = gr.LinePlot(
                x=t["col_day"],
                y=t["col_rate"],
                color=t["col_metric"],
                title=t["plot_rates"],
                y_lim=[0, 1],
            )
        with gr.Row():
            top = gr.BarPlot(
                x=t["col_doc"],
                y=t["col_citations"],
                title=t["plot_top"],
                sort="-y",
                x_label_angle=-30,
                y_lim=[0, None],
            )
            never = gr.Dataframe(interactive=False, label=t["never_cited"])
    return days, (per_day, rates, top, never)


def insights_tabs(ctx: AppContext) -> InsightsView:
    """The "questions" and "usage" tabs (inside the admin console's Tabs)."""
    return InsightsView(*log_tab(ctx.label), *usage_tab(ctx.t, ctx.label))
