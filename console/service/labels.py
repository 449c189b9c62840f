"""The names people read for the codes the system keeps — kinds, statuses, programs, funds,
cities, task types, timeline entry types and the rest — in Chinese (the supervisors' language,
and the page's default) and English. One home: the page gets them from `GET /api/labels`, and a
CSV export or the CLI that wants words calls `name()` here.

The Chinese names of kinds, programs and funds are the measures' own words (the seed
/work/shared/seed and POLICY.md); tests/unit/test_labels.py fails when the code defines a code
that has no name here in both languages."""

from __future__ import annotations

import unicodedata
from typing import Final, Literal

Lang = Literal["zh-CN", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh-CN", "en")
DEFAULT_LANG: Final[Lang] = "zh-CN"

# group -> code -> (zh-CN, en)
Names = dict[str, tuple[str, str]]

KINDS: Names = {
    "internship_subsidy": ("就业见习补贴", "Internship subsidy"),
    "unemployment_insurance": ("失业保险金", "Unemployment insurance benefit"),
    "unemployment_assistance": ("失业补助金", "Unemployment assistance"),
    "flexible_employment_subsidy": ("灵活就业社会保险补贴", "Flexible employment social insurance subsidy"),
    "public_welfare_post": ("公益性岗位", "Public welfare post"),
    "hiring_subsidy": ("一次性吸纳就业补贴", "One-off hiring subsidy"),
    "job_retention_refund": ("稳岗返还", "Job retention refund"),
    "layoff_plan": ("经济性裁员", "Economic layoff plan"),
    "unemployed_followup": ("登记失业人员跟踪服务", "Follow-up of registered unemployed"),
    "dibao_taper": ("低保渐退", "Dibao taper"),
    "hubei_graduate_grant": ("湖北籍2020届毕业生一次性求职创业补贴", "Hubei 2020 graduate job-seeking grant"),
    "startup_loan_interest": ("创业担保贷款贴息", "Start-up guaranteed loan interest subsidy"),
    "vocational_training_subsidy": ("职业培训补贴", "Vocational training subsidy"),
    "enterprise_si_subsidy": ("企业吸纳就业困难人员社会保险补贴", "Enterprise social insurance subsidy (hard to employ)"),
    "incubator_subsidy": ("创业孵化载体补贴", "Incubator subsidy"),
    "temporary_living_allowance": ("临时生活补助", "Temporary living allowance"),
    "employment_service_subsidy": ("就业创业服务补助", "Employment service subsidy"),
}

STATUSES: Names = {
    "active": ("办理中", "active"),
    "paused": ("暂停", "paused"),
    "closed": ("已结案", "closed"),
    "completed": ("已完成", "completed"),
    "defaulted": ("贷款逾期", "defaulted"),
    "dropped": ("中途退出", "dropped out"),
    "employed": ("已就业", "employed"),
    "ended": ("已终止", "ended"),
    "exhausted": ("待遇期满", "exhausted"),
    "failed": ("未取得证书", "failed"),
    "hired": ("留用就业", "hired"),
    "hired_full_subsidy": ("留用就业（全额补贴）", "hired (full subsidy)"),
    "ineligible": ("不符合条件", "ineligible"),
    "not_qualified": ("未达到条件", "not qualified"),
    "paid": ("已发放", "paid"),
    "reemployed": ("已再就业", "re-employed"),
    "refunded": ("已返还", "refunded"),
    "rejected": ("不予批准", "rejected"),
    "repaid": ("已还款", "repaid"),
    "retired": ("已退休", "retired"),
    "settled": ("已清算", "settled"),
}

PROGRAMS: Names = {
    "internship_subsidy": ("就业见习补贴", "internship subsidy"),
    "unemployment_insurance": ("失业保险金", "unemployment insurance benefit"),
    "epidemic_uplift": ("失业保险金临时提标", "epidemic uplift of the benefit"),
    "price_linkage": ("价格临时补贴", "price-linkage supplement"),
    "unemployment_assistance": ("失业补助金", "unemployment assistance"),
    "flexible_employment_si": ("灵活就业社会保险补贴", "flexible employment social insurance subsidy"),
    "welfare_post_subsidy": ("公益性岗位岗位补贴", "welfare post subsidy"),
    "welfare_post_si_subsidy": ("公益性岗位社会保险补贴", "welfare post social insurance subsidy"),
    "hiring_epidemic": ("一次性吸纳就业补贴（疫情期间新招用）", "hiring subsidy (hired during the epidemic)"),
    "hiring_priority": ("一次性吸纳就业补贴（重点群体）", "hiring subsidy (priority groups)"),
    "hiring_agency": ("职业介绍一次性就业创业服务补助", "job placement service subsidy"),
    "job_retention": ("稳岗返还", "job retention refund"),
    "dibao_taper": ("低保渐退", "dibao taper"),
    "hubei_graduate_grant": ("湖北籍毕业生一次性求职创业补贴", "Hubei graduate grant"),
    "loan_interest_subsidy": ("创业担保贷款贴息", "loan interest subsidy"),
    "vocational_training_subsidy": ("职业培训补贴", "vocational training subsidy"),
    "on_job_training_subsidy": ("在岗培训补贴", "on-the-job training subsidy"),
    "labour_preparation_allowance": ("劳动预备制培训生活费补贴", "labour preparation living allowance"),
    "enterprise_si": ("企业吸纳就业困难人员社会保险补贴", "enterprise social insurance subsidy"),
    "incubator_city": ("孵化载体运营补助（市级）", "incubator operating support (city)"),
    "incubator_provincial": ("孵化基地省级专项补贴", "incubator provincial subsidy"),
    "incubator_rent_relief": ("孵化载体减免租金补助", "incubator rent relief"),
    "temporary_living_allowance": ("临时生活补助", "temporary living allowance"),
    "employment_service_subsidy": ("就业创业服务补助", "employment service subsidy"),
}

FUNDS: Names = {
    "employment_subsidy_fund": ("就业补助资金", "employment subsidy fund"),
    "ui_fund": ("失业保险基金", "unemployment insurance fund"),
    "restructuring_fund": ("工业企业结构调整专项奖补资金", "industrial restructuring fund"),
    "local_fund": ("其他地方资金", "other local funds"),
    "dibao_fund": ("低保资金", "dibao fund"),
    "skills_upgrading_fund": ("职业技能提升行动专账资金", "skills upgrading fund"),
    "inclusive_finance_fund": ("普惠金融发展专项资金", "inclusive finance fund"),
}

# POLICY.md "Cities": the tenant keys 2101..2114.
CITIES: Names = {
    "2101": ("沈阳", "Shenyang"), "2102": ("大连", "Dalian"), "2103": ("鞍山", "Anshan"),
    "2104": ("抚顺", "Fushun"), "2105": ("本溪", "Benxi"), "2106": ("丹东", "Dandong"),
    "2107": ("锦州", "Jinzhou"), "2108": ("营口", "Yingkou"), "2109": ("阜新", "Fuxin"),
    "2110": ("辽阳", "Liaoyang"), "2111": ("盘锦", "Panjin"), "2112": ("铁岭", "Tieling"),
    "2113": ("朝阳", "Chaoyang"), "2114": ("葫芦岛", "Huludao"),
}

TASK_TYPES: Names = {
    "taper_decision": ("低保渐退期限决定", "taper decision"),
    "extra_placement": ("公益性岗位再次安置审批", "extra placement"),
    "guarantee_claim": ("担保代偿审核", "guarantee claim"),
    "provincial_selection": ("省级孵化基地评选", "provincial selection"),
    "followup_escalation": ("跟踪服务升级处理", "follow-up escalation"),
    "obligations_overdue": ("裁员义务逾期", "obligations overdue"),
    "overpayment_recovery": ("多发追回", "overpayment recovery"),
}

TASK_STATES: Names = {
    "open": ("待办", "open"),
    "decided": ("已决定", "decided"),
    "expired": ("已过期", "expired"),
    "withdrawn": ("已撤回", "withdrawn"),
}

# contracts/timeline.py ENTRY_TYPES
ENTRY_TYPES: Names = {
    "decision": ("决定", "decision"),
    "payment": ("支付", "payment"),
    "correction": ("更正", "correction"),
    "task": ("任务", "task"),
    "supervisor": ("监管操作", "supervisor"),
    "event": ("事件", "event"),
    "note": ("备注", "note"),
    "quarantine": ("隔离事件", "quarantined event"),
}

# console/service/quarantine.py STATUSES: what became of an event a case refused.
QUARANTINE_STATUSES: Names = {
    "quarantined": ("已隔离", "quarantined"),
    "redriven": ("已重新投递", "re-driven"),
    "dismissed": ("已驳回", "dismissed"),
}

# policy/disbursement.py: where a ledger row's disbursement stands.
DISBURSEMENT_STATUSES: Names = {
    "awaiting_account": ("待收款账户", "awaiting account"),
    "instructed": ("已发指令", "instructed"),
    "settled": ("已结算", "settled"),
    "returned": ("已退回", "returned"),
    "stopped": ("已停止", "stopped"),
}

# contracts/cases.py LedgerEntryKind: a payment, or a correction of one.
LEDGER_ENTRIES: Names = {
    "payment": ("支付", "payment"),
    "arrears": ("补发", "arrears"),
    "overpayment": ("多发", "overpayment"),
    "deduction": ("扣回", "deduction"),
}

ALERT_KINDS: Names = {
    "weekly_surge": ("周失业登记激增", "weekly surge"),
    "mass_unemployment": ("规模性失业", "mass unemployment"),
    "headcount_drop": ("参保人数骤降", "headcount drop"),
    "double_settlement": ("重复结算", "double settlement"),
    "fund_shortfall": ("资金缺口", "fund shortfall"),
}

# The forecast view (POLICY.md part 2 §22): `jiuye forecast` and static/forecast.js.
FORECAST_TERMS: Names = {
    "budget": ("预算", "budget"),
    "spend": ("已支出", "spend so far"),
    "forecast": ("预测支出", "forecast"),
    "spend_and_forecast": ("支出加预测", "spend + forecast"),
    "runs_out": ("预算用尽月份", "budget runs out"),
    "lasts": ("预算可支撑全年", "budget lasts the year"),
    "no_budget": ("未设预算", "no budget set"),
    "month": ("月份", "month"),
    "city": ("城市", "city"),
    "fund": ("资金", "fund"),
}

ROLES: Names = {
    "province": ("省级", "province"),
    "city_supervisor": ("市级监管", "city_supervisor"),
    "auditor": ("审计", "auditor"),
}

GROUPS: Final[dict[str, Names]] = {
    "kind": KINDS, "status": STATUSES, "program": PROGRAMS, "fund": FUNDS, "city": CITIES,
    "task_type": TASK_TYPES, "task_state": TASK_STATES, "entry_type": ENTRY_TYPES,
    "ledger_entry": LEDGER_ENTRIES, "alert_kind": ALERT_KINDS, "role": ROLES,
    "quarantine_status": QUARANTINE_STATUSES, "disbursement_status": DISBURSEMENT_STATUSES,
    "forecast": FORECAST_TERMS,
}

# -- The case page: event types and the keys of a kind's details (console/service/case_texts.py
# reads the timeline with them; tests/unit/test_case_texts.py fails on one without a name) -------

# contracts/events.py DATA_MODELS: the types of the events a case takes.
EVENT_TYPES: Names = {
    "unemployment.registered": ("失业登记", "unemployment registered"),
    "unemployment.deregistered": ("注销失业登记", "unemployment deregistered"),
    "employment.registered": ("就业登记", "employment registered"),
    "employment.terminated": ("终止就业", "employment terminated"),
    "enterprise.registered": ("企业登记", "enterprise registered"),
    "enterprise.closure_reported": ("企业关闭报告", "enterprise closure reported"),
    "contribution.paid": ("社会保险缴费", "contribution paid"),
    "insured.enrolled": ("参保登记", "insured enrolled"),
    "insured.left": ("停保", "insured left"),
    "si.fee_exemption": ("社会保险费减免", "fee exemption"),
    "ui.claim.filed": ("失业保险金申领", "unemployment insurance claim filed"),
    "contract.signed": ("劳动合同签订", "contract signed"),
    "contract.terminated": ("劳动合同终止", "contract terminated"),
    "internship.agreement_signed": ("见习协议签订", "internship agreement signed"),
    "internship.interrupted": ("见习中断", "internship interrupted"),
    "internship.resumed": ("见习恢复", "internship resumed"),
    "internship.ended": ("见习结束", "internship ended"),
    "welfare_post.placed": ("公益性岗位安置", "welfare post placement"),
    "welfare_post.left": ("离开公益性岗位", "welfare post left"),
    "referral.recorded": ("职业介绍记录", "referral recorded"),
    "followup.recorded": ("跟踪服务记录", "follow-up recorded"),
    "application.submitted": ("提交申请", "application submitted"),
    "layoff.plan_filed": ("报送裁员方案", "layoff plan filed"),
    "layoff.union_notified": ("向工会说明情况", "union notified"),
    "layoff.executed": ("实施裁员", "layoff executed"),
    "layoff.obligations_settled": ("裁员义务履行", "layoff obligations settled"),
    "dibao.granted": ("低保核定", "dibao granted"),
    "dibao.ended": ("低保终止", "dibao ended"),
    "household.updated": ("家庭情况更新", "household updated"),
    "policy.epidemic.declared": ("疫情发生", "epidemic declared"),
    "policy.epidemic.lifted": ("疫情解除", "epidemic lifted"),
    "policy.price_linkage.triggered": ("价格联动启动", "price linkage triggered"),
    "policy.parameter.changed": ("政策参数调整", "parameter changed"),
    "fund.budget_set": ("资金预算设定", "budget set"),
    "loan.granted": ("贷款发放", "loan granted"),
    "loan.interest_charged": ("贷款计息", "loan interest charged"),
    "loan.extended": ("贷款展期", "loan extended"),
    "loan.repaid": ("贷款还清", "loan repaid"),
    "loan.defaulted": ("贷款逾期", "loan defaulted"),
    "training.enrolled": ("培训报名", "training enrolled"),
    "training.completed": ("培训结业", "training completed"),
    "training.dropped": ("培训中途退出", "training dropped"),
    "service.delivered": ("就业创业服务", "service delivered"),
    "incubator.accredited": ("孵化载体认定", "incubator accredited"),
    "incubator.expenses_reported": ("孵化载体费用报告", "incubator expenses reported"),
    "incubator.rent_relief_reported": ("孵化载体减免租金报告", "incubator rent relief reported"),
    "payee.account_registered": ("收款账户登记", "payee account registered"),
    "payee.account_updated": ("收款账户变更", "payee account updated"),
    "payment.settled": ("支付到账", "payment settled"),
    "payment.returned": ("支付退回", "payment returned"),
}

# The keys of each kind's `details()` (workflows/*.py): what the case page lists about the case
# (in order), then the keys only the details a case puts on the tasks it raises have (`raise_task`).
DETAIL_KEYS: Names = {
    "agency": ("职业介绍机构", "agency"), "agency_paid": ("已付机构补助", "agency paid"),
    "agreed_months": ("协议月数", "agreed months"), "applied_on": ("申请日期", "applied on"),
    "approval": ("审批", "approval"), "assistance_case_id": ("失业补助金案件", "assistance case"),
    "bank": ("贷款银行", "bank"), "borrower_kind": ("借款人类别", "borrower kind"),
    "carried_over_months": ("结转月数", "carried-over months"), "certificate_level": ("证书等级", "certificate level"),
    "claim_on": ("申领日期", "claim on"), "cohort": ("批次", "cohort"),
    "completed_on": ("结业日期", "completed on"), "continuation": ("延续领取", "continuation"),
    "contribution": ("缴费", "contribution"), "deadline": ("期限", "deadline"),
    "decided_by": ("决定人", "decided by"), "defaulted_on": ("逾期日期", "defaulted on"),
    "difficult_categories": ("就业困难人员类别", "difficult-to-employ categories"),
    "difficult_categories_on": ("认定困难类别日期", "categories on"),
    "employed_from": ("就业起始日", "employed from"), "employed_on": ("就业日期", "employed on"),
    "employer_id": ("用人单位", "employer"), "end": ("结束日期", "end"),
    "enterprise": ("企业", "enterprise"), "enterprise_id": ("企业", "enterprise"),
    "entitlement_months": ("可领取月数", "entitlement months"), "epidemic": ("疫情期间", "epidemic"),
    "escalated": ("已升级", "escalated"), "escalated_months": ("升级处理的月份", "escalated months"),
    "executed_on": ("实施日期", "executed on"), "executed_persons": ("实际裁减人数", "persons laid off"),
    "exempt_months": ("减免月份", "exempt months"), "expenses": ("费用", "expenses"),
    "filed_on": ("报送日期", "filed on"), "first_month": ("首月", "first month"),
    "followed_months": ("已跟踪月份", "followed months"), "formula": ("计算公式", "formula"),
    "from_month": ("起始月份", "from month"), "fund": ("资金来源", "fund"),
    "fund_reason": ("资金来源依据", "fund reason"), "generation": ("轮次", "generation"),
    "graduation_year": ("毕业年份", "graduation year"), "groups": ("人员类别", "groups"),
    "household_id": ("家庭", "household"), "hukou_province": ("户籍省份", "household registration"),
    "institution_province": ("院校所在省份", "institution province"), "insured_headcount": ("参保人数", "insured headcount"),
    "insured_months": ("缴费月数", "insured months"), "involuntary": ("非本人意愿中断就业", "involuntary"),
    "labour_preparation": ("劳动预备制", "labour preparation"), "last_month": ("末月", "last month"),
    "left_on": ("离岗日期", "left on"), "level": ("等级", "level"),
    "loan_id": ("贷款编号", "loan"), "long_term_unemployed": ("长期失业", "long-term unemployed"),
    "long_term_unemployed_since": ("长期失业起始日", "long-term unemployed since"), "lpr_bp": ("LPR（基点）", "LPR (bp)"),
    "mass_unemployment": ("规模性失业", "mass unemployment"), "mode": ("培训方式", "mode"),
    "monthly_amount": ("月发放金额", "monthly amount"), "months": ("月数", "months"),
    "months_by_contribution": ("按缴费计算的月数", "months by contribution"), "months_counted": ("已计月数", "months counted"),
    "months_paid": ("已支付月数", "months paid"), "next_followup_due": ("下次跟踪期限", "next follow-up due"),
    "obligations_due": ("履行义务期限", "obligations due"), "occupation": ("培训职业", "occupation"),
    "paid_months": ("已支付月份", "paid months"), "paid_past_end": ("离岗后已付月数", "paid past the end"),
    "paid_this_year": ("本年已付", "paid this year"), "pauses": ("中断", "pauses"),
    "period": ("期限", "period"), "period_end": ("期限结束", "period end"),
    "periods_reported": ("已报告的计息期", "periods reported"), "person": ("人员", "person"),
    "person_id": ("人员", "person"), "placement_number": ("安置次数", "placement number"),
    "planned_count": ("拟裁减人数", "planned count"), "post_id": ("岗位", "post"),
    "post_kind": ("岗位类别", "post kind"), "premature": ("提前裁员", "premature"),
    "price_linkage_months": ("价格联动月份", "price-linkage months"), "principal": ("贷款本金", "principal"),
    "priority_groups": ("重点群体", "priority groups"), "program": ("补贴项目", "program"),
    "provincial": ("省级补贴", "provincial"), "rate_bp": ("利率（基点）", "rate (bp)"),
    "reason": ("原因", "reason"), "reemployed_on": ("再就业日期", "re-employed on"),
    "referrals": ("推荐次数", "referrals"), "registered_month": ("登记月数", "registered month"),
    "registered_on": ("登记日期", "registered on"), "rent_relief_months": ("减免租金月份", "rent relief months"),
    "repaid_on": ("还款日期", "repaid on"), "retirement_date": ("法定退休日期", "retirement date"),
    "separated_on": ("解除劳动关系日期", "separated on"), "services": ("服务", "services"),
    "settled": ("已清算", "settled"), "settled_before_execution": ("实施前已履行", "settled before execution"),
    "signed_on": ("签订日期", "signed on"), "start": ("开始日期", "start"),
    "starts_on": ("开始日期", "starts on"), "taper_from": ("渐退起始月", "taper from"),
    "taper_months": ("渐退月数", "taper months"), "taper_until": ("渐退截止", "taper until"),
    "term_end": ("贴息期截止", "term end"), "term_months": ("期限月数", "term months"),
    "terminated_on": ("终止日期", "terminated on"), "training_notice_on": ("培训通知日期", "training notice on"),
    "treated_as": ("参照认定", "treated as"), "ui_case_id": ("失业保险金案件", "UI case"),
    "union_notified_on": ("向工会说明日期", "union notified on"), "unit_id": ("见习单位", "unit"),
    "unused_months": ("剩余月数", "unused months"), "uplift_months": ("提标月份", "uplift months"),
    "year": ("年度", "year"),
    # Only on tasks:
    "amount": ("金额", "amount"), "default_months": ("默认月数", "default months"),
    "escalated_on": ("升级日期", "escalated on"), "followup_due_on": ("应跟踪日期", "follow-up due on"),
    "months_max": ("最多月数", "months at most"), "months_min": ("最少月数", "months at least"),
    "payee": ("收款人", "payee"), "periods": ("期间", "periods"), "persons": ("人员", "persons"),
    "rule": ("依据", "rule"),
}

# The details keys whose values are amounts in fen: the console shows them in yuan (the unit's
# name in each language is what the catalog serves for them).
MONEY_DETAILS: Names = {key: ("元", "yuan") for key in (
    "amount", "monthly_amount", "paid_this_year", "expenses", "principal")}

GROUPS.update({"event_type": EVENT_TYPES, "detail": DETAIL_KEYS, "money_detail": MONEY_DETAILS})


def name(group: str, code: str | None, lang: Lang = DEFAULT_LANG) -> str:
    """The name of `code` in `group` in `lang`; a code without one is shown as itself (a code
    added after this table must still be readable — the unit test is what catches it)."""
    if code is None:
        return ""
    names = GROUPS[group].get(code)
    return code if names is None else names[LANGS.index(lang)]


def catalog() -> dict[str, dict[str, dict[str, str]]]:
    """Every group as `{group: {code: {"zh-CN": ..., "en": ...}}}` (what GET /api/labels serves)."""
    return {group: {code: dict(zip(LANGS, names, strict=True)) for code, names in names_of.items()}
            for group, names_of in GROUPS.items()}


def yuan(fen: int) -> str:
    """Fen as people read yuan, by integer arithmetic (no float touches an amount): "1,234.50 元",
    "-0.05 元" — as static/i18n.js's I18N.yuan writes zh-CN."""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d} 元"


def both(group: str, code: str) -> str:
    """A code by its Chinese name, then the code (the English reader's key): "就业见习补贴 internship_subsidy"."""
    zh = name(group, code, "zh-CN")
    return code if zh == code else f"{zh} {code}"


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns, a Chinese character taking two (the CLI's tables)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)
