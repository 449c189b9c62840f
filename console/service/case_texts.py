"""The case page's texts in Chinese: the timeline notes the workflows write, the rules they give,
and the keys of each kind's details. One home for these readings (the names of codes stay in
labels.py, which this module uses for the values).

The workflows keep writing their English notes: those strings are in the recorded histories, the
ledger and the audit, so they are never changed. A note is read at display time instead: its
pattern (the workflow's f-string with `{}` where a value goes) is matched, and the values are put
into the Chinese reading — amounts in 元 with separators, dates as people write them (2020年3月5日,
2020年3月), codes by their names in labels.py. A text no pattern matches is shown as it came.

A reading writes `{0}`, `{1}`… for the pattern's values in order, and may say how a value is read:
`{1:yuan}` (fen as 元), `{0:list}` (a comma-separated list, each item read), or a group of labels.py
(`{0:event_type}`, `{0:kind}`, `{0:status}`…: the code's name, and a value that is not a code of the
group makes the pattern not match, so patterns that look alike are told apart). A value without a
way is read as a date or month when it is one, else shown as it is.

tests/unit/test_case_texts.py fails when a note, a rule or a detail key in the code has no reading
here."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from console.service import labels
from console.service.labels import Lang

# Timeline notes: the workflows' pattern -> the Chinese reading.
NOTES: Final[dict[str, str]] = {
    # workflows/_contribution_reports.py and the contribution notes its callers pass
    "{} paid {} fen employer share for {}": "{0} 缴纳{2}单位缴费部分 {1:yuan}",
    "own contribution for {}: {} fen": "{0}个人缴费 {1:yuan}",
    "contribution for {}: employer share {} fen": "{0}单位缴费部分 {1:yuan}",
    "corrected report for {}: {} fen (was {})": "{0}缴费报告更正为 {1:yuan}（原为 {2:yuan}）",
    "another report for {}: {} fen still stands": "{0}缴费再次报告：仍以 {1:yuan} 为准",
    # workflows/_person_facts.py
    "{}: no re-employment since {}": "{0:event_type}：{1}以来未再就业",
    "re-employed ({}): {}": "已再就业（{0:event_type}）：{1}",
    # workflows/case_base.py
    "decision on {} taken while closed: recorded, nothing to act on": "结案后作出对{0}的决定：已记录，无需办理",
    "no longer taking late facts (window ended {})": "不再接收迟到事实（接收期已于{0}结束）",
    "no longer taking late facts; the run lasts until the overpayment_recovery tasks are decided":
        "不再接收迟到事实；待多发追回任务决定后本案运行结束",
    "{} after the window for late facts: not taken": "{0:event_type}晚于迟到事实接收期：不予采纳",
    "{} held while rejected: {}": "不予批准期间收到{0:event_type}：暂存至{1}",
    "{} re-driven by {}: {}": "{0:event_type}由{1}重新投递：{2}",
    "late {}: the decision stands": "迟到的{0:event_type}：原决定不变",
    "late {}: {} does not reconcile what it owes; ledger unchanged": "迟到的{0:event_type}：{1:kind}不重新核算应发金额，台账不变",
    "late {}: what is owed is unchanged": "迟到的{0:event_type}：应发金额不变",
    "reopened: judged again as if the late fact had come first": "重新审核：按迟到事实先到的情形重新判断",
    "epidemic {} on {}: announced before the one known ({}), which stands":
        "疫情{0:epidemic}于{1}：发布早于已知的一次（{2}），以已知的为准",
    "epidemic {}": "疫情{0:epidemic}",
    "parameter {} = {} from {}": "参数 {0} = {1}，自{2}起",
    "opened case {}": "立案 {0}",
    "held by {}: {}": "{0}暂停本案：{1}",
    "hold released by {}: {}": "{0}解除暂停：{1}",
    "paid {} to {}": "向{1}支付{0}",
    "paid {} to {} (cut to what is left of the cap {})": "向{1}支付{0}（按上限{2}的余额核减）",
    "{} for {} {} (taken from {})": "{1:program}{2}的{0:ledger_entry}（从{3}扣回）",
    "{} for {} {}": "{1:program}{2}的{0:ledger_entry}",
    "overpayment of {} from {} ({}) {}, decided by {}: {}; receivable closed, no longer deducted":
        "{0}从{1:fund}多领的款项（{2:list}）{3:recovery_outcome}，由{4}决定：{5}；应收款已结清，不再扣回",
    "task raised: {}": "生成任务：{0:task_type}",
    "task {} {} by {}": "任务{0:task_type}{1:task_state}（{2}）",
    "task {} {}": "任务{0:task_type}{1:task_state}",
    "alert {} raised for city {}": "{1:city}发出{0:alert_kind}预警",
    "closed {}": "结案：{0:status}",
    "stays open until what it owes has fallen due (the next on {}); then closes {} as of {}":
        "待应发款项到期后结案（下一笔于{0}到期）：届时以{2}为结案日期，按{1:status}结案",
    # workflows/dibao_taper.py
    "a new 低保 grant after the employment: the taper keeps its amount": "就业后新的低保核定：渐退期保持原金额",
    "低保 now {} fen a month": "低保现为每月 {0:yuan}",
    "低保 ended after the employment: the taper continues": "就业后低保终止：渐退继续",
    "{} does not concern this case": "{0:event_type}与本案无关",
    "employment ({}) again: the taper already runs": "再次就业（{0}）：渐退已在进行",
    "employment before the 低保 grant from {}: no taper for it": "就业早于{0}起的低保核定：不予渐退",
    "employed ({}) while receiving 低保: the taper begins": "领取低保期间就业（{0}）：开始渐退",
    "taper of {} months decided by {}": "{1}决定渐退{0}个月",
    "no decision: taper of {} months": "未作决定：渐退{0}个月",
    "default taper now {} months (was {})": "默认渐退期现为{0}个月（原为{1}个月）",
    "receiving 低保 {} fen a month from {}": "自{1}起领取低保每月 {0:yuan}",
    "低保 grant from {} announced before the one that stands: it does not replace it": "{0}起的低保核定发布早于现行核定：不予替代",
    "低保 when employed restated: {} fen a month from {}; the taper months are corrected":
        "就业时的低保重新核定：自{1}起每月 {0:yuan}；渐退各月予以更正",
    # workflows/employment_service_subsidy.py
    "{}: not a person this agency placed": "{0:event_type}：不是本机构介绍就业的人员",
    "{} of {} on {}: already known": "{1}于{2}的{0:event_type}：已知",
    "{} employed on {} (after {} was settled)": "{0}于{1}就业（在{2:list}清算之后）",
    "{} employed on {}": "{0}于{1}就业",
    "a service of {}: not this year's": "{0}年的服务：不属本年度",
    "{} for {} (reported after its quarter was settled)": "为{1}提供{0}（所在季度清算后才报告）",
    "{} for {}": "为{1}提供{0}",
    # workflows/enterprise_si_subsidy.py
    "difficult to employ ({}); counted months from {}": "就业困难人员（{0:list}）；自{1}起计算月份",
    "{}'s fees exempted in {}: not counted": "{0}在{1:list}减免社会保险费：不计入",
    "exemption reported after {} was paid: not counted, the period is postponed": "减免在{0:list}支付后才报告：不计入，补贴期限顺延",
    "exemption reported after {} was paid: stays paid and counted": "减免在{0:list}支付后才报告：已付不追回，照常计入",
    "contribution for {} not by {} for {}": "{0}的缴费不是{1}为{2}缴纳的",
    "contribution for {}: before the contract starts": "{0}的缴费：早于劳动合同开始",
    "another contribution for {}: the month is already counted": "{0}再次缴费：该月已计入",
    "{} not about this hire": "{0:event_type}与本次招用无关",
    "{} on {}: before this hire": "{1}的{0:event_type}：早于本次招用",
    "separated from {} on {} ({})": "{1}与{0}解除劳动关系（{2:event_type}）",
    "fee exemption of {}: not this hire's employer": "{0}的社会保险费减免：不是本次招用的单位",
    "{}: read when a month falls due or the case closes": "{0}：在月份到期或结案时核算",
    "{}'s fees exempted {}..{}": "{0}在{1}至{2}减免社会保险费",
    "contribution for {}: an exempted month, not subsidised": "{0}的缴费：减免月份，不予补贴",
    "{} hired {} from {} ({} months)": "{0}自{2}起招用{1}（{3}个月）",
    # workflows/flexible_employment_subsidy.py
    "difficult to employ ({}); period {} .. {} (until retirement: within 5 years of it at the start)":
        "就业困难人员（{0:list}）；期限{1}至{2}（至退休：开始时距退休不足5年）",
    "difficult to employ ({}); period {} .. {}": "就业困难人员（{0:list}）；期限{1}至{2}",
    "contribution for {} by employer {}: not flexible employment": "{0}的缴费由单位{1}缴纳：不属于灵活就业",
    "contribution for {}: before the period": "{0}的缴费：早于补贴期限",
    "stable employment with {} from {}": "自{1}起在{0}稳定就业",
    "contract of {} months with {}: not stable employment": "与{1}签订{0}个月的合同：不属于稳定就业",
    "paid before the employment was reported: {}": "就业报告前已支付：{0:list}",
    "period ran out on {} without stable employment: extended to {}": "期限于{0}届满仍未稳定就业：延长至{1}",
    "application for the flexible-employment social-insurance subsidy": "申请灵活就业社会保险补贴",
    # workflows/hiring_subsidy.py
    "{} for {} / {}": "{1} / {2}的{0:event_type}",
    "priority group: {}": "重点群体：{0:list}",
    "late {}: judged again, still rejected": "迟到的{0:event_type}：重新审核，仍不予批准",
    "application for {}: not this program": "申请{0:program}：不是本项目",
    "application for the hiring subsidy (epidemic supplies)": "申请一次性吸纳就业补贴（疫情防控物资）",
    "another application: the one of {} counts": "再次申请：以{0}的申请为准",
    "contribution for {} by {}: not this hire": "{1}缴纳的{0}缴费：与本次招用无关",
    "contribution for {}: before the contract started on {}": "{0}的缴费：早于{1}开始的劳动合同",
    "contribution for {} paid by {}": "{1}已缴纳{0}的社会保险费",
    "contract with {} ended": "与{0}的劳动合同已终止",
    "another contract between the pair: one subsidy per enterprise, person and program":
        "双方再次签订合同：同一企业、人员和项目只补贴一次",
    "agency cap reached: agency/{} has had its {} fen; nothing paid to it":
        "机构已达上限：agency/{0}已获 {1:yuan}；不再支付",
    # workflows/hubei_graduate_grant.py
    "another application with bad details, ignored: {}": "再次申请信息有误，不予采纳：{0}",
    "another application, announced before the one that stands ({}): it does not replace it":
        "再次申请，发布早于现行申请（{0}）：不予替代",
    "another application with the same details: one grant per person": "信息相同的再次申请：每人只补贴一次",
    "application details corrected: household registration {}, institution {}, graduation year {}":
        "申请信息已更正：户籍{0}，院校所在地{1}，毕业年份{2}",
    "application for the Hubei graduate grant": "申请湖北籍毕业生一次性求职创业补贴",
    # workflows/incubator_subsidy.py
    "rent relief of {}: announced before the report that stands ({}), which it does not replace":
        "{0}的减免租金报告：发布早于现行报告（{1}），不予替代",
    "rent of {} fen waived for {} tenants in {}": "{2}为{1}户入驻企业减免租金 {0:yuan}",
    "another provincial application for the year: the first one stands": "本年度再次申请省级补贴：以第一次为准",
    "provincial application refused": "省级补贴申请不予受理",
    "selected for the provincial subsidy by {}: {}": "{0}评选为省级专项补贴对象：{1}",
    "not selected by {}: {}": "{0}未予评选：{1}",
    "expenses of {}: announced before the report that stands ({}), which it does not replace":
        "{0}年度费用：发布早于现行报告（{1}），不予替代",
    "expenses of {}: operating {}, public services {} fen (replaces the earlier report)":
        "{0}年度费用：基本运营 {1:yuan}，公共服务 {2:yuan}（替代此前报告）",
    "expenses of {}: operating {}, public services {} fen": "{0}年度费用：基本运营 {1:yuan}，公共服务 {2:yuan}",
    # workflows/internship_subsidy.py
    "interruption while already interrupted: ignored": "已中断期间再次中断：不予处理",
    "late contract with another employer {}: no effect": "迟到的与其他单位{0}签订的合同：无影响",
    "late {} does not concern this case": "迟到的{0:event_type}与本案无关",
    "late: {} on or after the internship closed on {}: no month of it changes": "迟到事实：{0}发生在见习于{1}结束之时或之后：各月不变",
    "late: {} inside the internship; the months it changes are corrected": "迟到事实：{0}发生在见习期间；受影响的月份予以更正",
    "{} on or after the internship stopped on {}: no month of it changes": "{0}发生在见习于{1}停止之时或之后：各月不变",
    "interrupted ({})": "中断（{0}）",
    "resumed while not interrupted: ignored": "未中断时恢复：不予处理",
    "resumed after {} days": "中断{0}天后恢复",
    "contract with another employer {}: no effect": "与其他单位{0}签订合同：无影响",
    "agreement signed with unit {} for {} months": "与见习单位{0}签订{1}个月的见习协议",
    # workflows/job_retention_refund.py
    "{} does not bear on the application of {}": "{0:event_type}与{1}的申请无关",
    "{} reported after the application": "{0:event_type}在申请之后报告",
    "application for the job-retention refund of {}": "申请{0}年度稳岗返还",
    # workflows/layoff_plan.py
    "obligations reported settled before the layoff was executed: noted only": "裁员实施前报告义务已履行：仅作记录",
    "another execution report ({} persons); the first one counts": "再次报告实施裁员（{0}人）：以第一次为准",
    "layoff executed: {} persons; obligations due by {}": "已实施裁员：{0}人；应于{1}前履行义务",
    "flagged premature: executed on {} {}": "标记为提前裁员：于{0}实施，{1}",
    "deadline for the obligations extended to {} by {}": "{1}将履行义务期限延长至{0}",
    "escalated by {}: {}": "{0}升级处理：{1}",
    "layoff plan filed: {} of {} insured": "报送裁员方案：{1}名参保职工中裁减{0}人",
    "union notified after the layoff was executed; the judgement stands": "裁员实施后才向工会说明情况：原判断不变",
    "union notified; the layoff may take effect from {}": "已向工会说明情况：裁员可自{0}起生效",
    "another union notice; the earliest one counts": "再次向工会说明：以最早的一次为准",
    # workflows/public_welfare_post.py
    "placement no. {}; period {} .. {} (until retirement); paid from {}": "第{0}次安置；期限{1}至{2}（至退休）；由{3:fund}支付",
    "placement no. {}; period {} .. {}; paid from {}": "第{0}次安置；期限{1}至{2}；由{3:fund}支付",
    "left post {}": "离开岗位{0}",
    "extra placement approved by {}: {}": "{0}批准再次安置：{1}",
    "{} month(s) after {} were paid before it was reported; overpaid": "{1}之后的{0}个月在报告前已支付；多发",
    "{} month(s) after {} were paid before it was reported": "{1}之后的{0}个月在报告前已支付",
    "placed on {} post {}": "安置到{0:post_kind}岗位{1}",
    # workflows/startup_loan_interest.py
    "registered, but the borrower's subsidised loans are used up": "已登记，但借款人享受贴息的贷款次数已用完",
    "eligible (registered {}): subsidised term until {}": "符合条件（登记为{0:enterprise_size}）：贴息期至{1}",
    "extended by {} months ({}): subsidised term until {}": "展期{0}个月（{1}）：贴息期至{2}",
    "extended by {} months ({}): noted, not subsidised": "展期{0}个月（{1}）：仅作记录，不予贴息",
    "loan repaid": "贷款已还清",
    "loan defaulted: no subsidy for periods ending after it": "贷款逾期：其后结束的计息期不予贴息",
    "{}: announced before the report that stands ({}), which it does not replace": "{0}：发布早于现行报告（{1}），不予替代",
    "interest {} fen for {} ({} .. {}) replaces the earlier report": "{1}（{2}至{3}）利息 {0:yuan}，替代此前报告",
    "interest {} fen for {} ({} .. {})": "{1}（{2}至{3}）利息 {0:yuan}",
    "guarantee claim {} by {}: {}": "担保代偿{0:claim_verdict}（{1}）：{2}",
    "loan {} of {} fen granted by bank {} for {} months": "银行{2}发放贷款{0}，金额 {1:yuan}，期限{3}个月",
    "eligible: subsidised term until {}": "符合条件：贴息期至{0}",
    # workflows/temporary_living_allowance.py
    "application for the temporary living allowance": "申请临时生活补助",
    "eligible ({}): {} months from {}": "符合条件（{0:list}）：自{2}起{1}个月",
    # workflows/unemployed_followup.py
    "contact before this registration: not counted": "联系早于本次登记：不计入",
    "follow-up ({}) for registered month {}": "登记第{1}个月的跟踪服务（{0:channel}）",
    "escalation {} handled by {}: {}": "升级任务{0}由{1}处理：{2}",
    "long-term unemployed": "长期失业",
    "notice: eligible for 劳动预备制 training (under 20, willing, 2020)": "通知：可参加劳动预备制培训（20岁以下，有意愿，2020年）",
    "treated as difficult to employ (参照): {} ({} referrals without a job)": "参照就业困难人员：{0:list}（{1}次推荐未就业）",
    "registered unemployed": "登记失业",
    "referral before this registration: not counted": "推荐早于本次登记：不计入",
    "referral to {}: {}": "推荐到{0}：{1:referral_outcome}",
    "{} dated before this registration: no effect": "{0:event_type}日期早于本次登记：无影响",
    "deregistered ({})": "注销登记（{0}）",
    "employed ({})": "已就业（{0}）",
    "the same (or an older) registration delivered again: ignored": "重复（或更早）的登记再次送达：不予处理",
    "registered again: this registration has ended": "再次登记：本次登记已结束",
    # workflows/unemployment_assistance.py
    "opened by {} ({}): {} months from {}": "由{0}开启（{1}）：自{3}起{2}个月",
    # workflows/unemployment_insurance.py
    "never insured: no unemployment assistance either": "从未参保：也不发放失业补助金",
    "{} unused months from the previous claim stay unused": "上次领取剩余的{0}个月继续保留",
    "entitled to {} months: {} by contribution + {} unused from the previous claim (capped at {})":
        "可领取{0}个月：按缴费{1}个月 + 上次剩余{2}个月（上限{3}个月）",
    "entitled to {} months: {} by contribution + {} unused from the previous claim": "可领取{0}个月：按缴费{1}个月 + 上次剩余{2}个月",
    "entitled to {} months: {} by contribution (capped at {})": "可领取{0}个月：按缴费{1}个月（上限{2}个月）",
    "entitled to {} months: {} by contribution": "可领取{0}个月：按缴费{1}个月",
    "price linkage of city {}: not this case's": "{0:city}的价格联动：不属本案",
    "the same claim filed again: no effect": "同一申领再次提交：无影响",
    "price linkage for {} triggered again: no effect": "{0}的价格联动再次触发：无影响",
    "price linkage {} fen for {}": "{1}价格临时补贴 {0:yuan}",
    "{}: no re-employment after the claim": "{0:event_type}：申领后未再就业",
    "{}: re-employed already on {}": "{0:event_type}：已于{1}再就业",
    "re-employed ({}): payment stops from the next benefit month": "已再就业（{0:event_type}）：自下一个待遇月起停发",
    "months {}..{} were paid before the re-employment was known": "{0}至{1}在得知再就业前已支付",
    "entitlement ended within a year of retirement on {}: benefit continues": "待遇期满时距{0}退休不足1年：继续发放",
    "no unemployment assistance: it would open on {}, after ua.window_until {}": "不发放失业补助金：开启日{0}晚于 ua.window_until（{1}）",
    "claim filed: {} insured months, {} separation, retirement {}": "提出申领：缴费{0}个月，{1:separation}，{2}退休",
    # workflows/vocational_training_subsidy.py
    "eligible ({}); a 劳动预备制 trainee": "符合条件（{0:list}）；劳动预备制学员",
    "eligible ({})": "符合条件（{0:list}）",
    "completed, certificate {}": "培训结业，证书{0:certificate}",
    "dropped": "中途退出",
    "{}: the course is already over": "{0:event_type}：课程已结束",
    "the completion's subsidy is refused": "结业补贴不予发放",
    "enrolled in {} ({}, {}) {} .. {}": "参加{0}培训（{1}，{2:training_mode}）{3}至{4}",
}

# What the console itself writes on the timeline (console/service/cases.py's read-model fallback and
# audit entries, console/service/quarantine.py): the same reading, not scanned from the workflows.
CONSOLE_NOTES: Final[dict[str, str]] = {
    "opened": "立案",
    "{} for {} {} to {}": "向{3}{1:program}{2}的{0:ledger_entry}",
    "{} by {} ({}): {}": "{2:role}{1}：{0:action}，原因：{3}",
    "{} by {} ({})": "{2:role}{1}：{0:action}",
    "{} refused: {} ({})": "{0:event_type}被拒绝：{1}（{2:quarantine_status}）",
}

# Rules: the rule a workflow gives (a RULE_* constant of policy/, a rule= string, what a *_rule
# function returns) -> its Chinese reading. A § rule reads in the seed's own words where the rule
# quotes them; parameter names (dibao.taper_months_min…) are the pack's keys and stay as written.
RULES: Final[dict[str, str]] = {
    # policy/dibao.py
    "§18 对实现就业的低保对象…继续给予3至12个月的低保救助": "§18 对实现就业的低保对象…继续给予3至12个月的低保救助",
    "§18: a caseworker decides dibao.taper_months_min..max months": "§18：由经办人员在 dibao.taper_months_min 至 max 个月之间决定渐退期",
    "POLICY.md K10: no decision within dibao.decision_days days → dibao.taper_default_months":
        "POLICY.md K10：dibao.decision_days 天内未作决定的，按 dibao.taper_default_months 渐退",
    "§18: the 低保 amount at the start of each taper month, from the month after the employment":
        "§18：自就业次月起，每个渐退月按月初的低保金额发放",
    "POLICY.md K10: no taper month beyond the months of the taper": "POLICY.md K10：超出渐退期的月份不予发放",
    # policy/enterprise_si.py
    "§2 减免期间…社会保险补贴可顺延: a month of fee exemption is not counted (the period is postponed by it)":
        "§2 减免期间…社会保险补贴可顺延：减免社会保险费的月份不计入（补贴期限相应顺延）",
    "§2: no subsidy for a month after the month of the separation": "§2：解除劳动关系当月之后的月份不予补贴",
    "§2: employer share {} fen paid by {} for {} in {} (counted month {})":
        "§2：{1}为{2}缴纳{3}单位缴费部分 {0:yuan}（计入第{4}个月）",
    # policy/flexible.py
    "§13: no subsidy for a month that began on or after stable employment started": "§13：稳定就业开始之时或之后开始的月份不予补贴",
    "§13/§16: {}/{} of the {} fen contributed for {}": "§13/§16：{3}缴费 {2:yuan} 的 {0}/{1}",
    # policy/followup.py
    "§20 每月至少进行1次跟踪调查: a contact dated in registered month n completes its follow-up":
        "§20 每月至少进行1次跟踪调查：登记第n个月内的联系即完成当月跟踪",
    "§20: no follow-up in registered month n by followup.grace_days after it fell due → city supervisor":
        "§20：登记第n个月到期后 followup.grace_days 天内仍未跟踪的，交市级监管处理",
    "§10 登记失业半年以上: registered ≥ hiring.long_term_unemployed_months months (read by K6b)":
        "§10 登记失业半年以上：登记满 hiring.long_term_unemployed_months 个月（K6b 据此判断）",
    "§11 将20岁以下有意愿的登记失业人员纳入劳动预备制培训政策范围 (trainee.max_age, trainee.window_*)":
        "§11 将20岁以下有意愿的登记失业人员纳入劳动预备制培训政策范围（trainee.max_age、trainee.window_*）",
    "§16 参照: ≥ 12 continuous months registered, no flexible/self-employment, ≥ 2 referrals without a job":
        "§16 参照就业困难人员：连续登记满12个月，未灵活就业或自主创业，2次以上推荐未就业",
    "§18/§20: the registration ended (deregistered or employed); follow-up stops": "§18/§20：登记已结束（注销或就业）；停止跟踪服务",
    # policy/forecast.py
    "POLICY.md part 2 §22: spend so far plus the forecast for the rest of the year exceeds the budget (对失业保险金发放出现缺口的地区…调剂)":
        "POLICY.md 第二部分 §22：已支出加全年剩余预测超出预算（对失业保险金发放出现缺口的地区…调剂）",
    # policy/hiring.py
    "§10 按企业为其缴纳{}个月社会保险费标准: employer share for {}": "§10 按企业为其缴纳{0}个月社会保险费标准：{1:list}的单位缴费部分",
    "§10: one hiring subsidy per enterprise, person and program": "§10：同一企业、人员和项目只发放一次吸纳就业补贴",
    # policy/hubei.py
    "§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴: hubei_grant.amount once":
        "§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴：一次性发放 hubei_grant.amount",
    "§14: not eligible on the corrected application details (湖北籍2020届省内院校毕业生 only)":
        "§14：按更正后的申请信息不符合条件（仅限湖北籍2020届省内院校毕业生）",
    # policy/incubator.py
    "§12 各市…按其实际支出的基本运营和公共服务等费用的一定比例给予补助: incubator.city_share, at most incubator.city_cap":
        "§12 各市…按其实际支出的基本运营和公共服务等费用的一定比例给予补助：比例 incubator.city_share，最高 incubator.city_cap",
    "§12 每年…给予10家孵化基地每家最高不超过500万元的省级专项补贴": "§12 每年…给予10家孵化基地每家最高不超过500万元的省级专项补贴",
    "§12 对疫情期间为入驻的企业减免租金的各类创业孵化载体…给予一定数额的补助: incubator.rent_relief_share":
        "§12 对疫情期间为入驻的企业减免租金的各类创业孵化载体…给予一定数额的补助：比例 incubator.rent_relief_share",
    # policy/internship.py
    "§14: the unit is paid for each completed internship month": "§14：见习单位按完成的见习月份领取补贴",
    "§14: only completed internship months are paid: on the facts known now this month is not completed within the period, "
    "or not before the internship ended or the intern was hired":
        "§14：只发放已完成的见习月份：按现有事实，该月未在见习期内完成，或未在见习结束、见习人员被留用之前完成",
    # policy/layoff.py
    "§21 规模性失业: {} planned of {} insured; threshold {} persons or {}/{} of the insured (at or over)":
        "§21 规模性失业：{1}名参保职工中拟裁减{0}人；标准为{2}人或参保人数的{3}/{4}（达到或超过）",
    # policy/living_allowance.py
    "§18 临时生活补助: tla.monthly at the start of each of tla.months months from the application date":
        "§18 临时生活补助：自申请之日起 tla.months 个月，每月月初发放 tla.monthly",
    "§18: re-employment stops the allowance from the month after it": "§18：再就业的，自次月起停发补助",
    "§18 对符合条件的生活困难下岗失业人员，发放临时生活补助": "§18 对符合条件的生活困难下岗失业人员，发放临时生活补助",
    # policy/service_subsidy.py
    "§20 就业创业服务补助: per confirmed placement, per person guided and per enterprise served in the quarter, at most service_subsidy.cap_per_year a year":
        "§20 就业创业服务补助：按季度内确认的介绍就业人数、指导人数和服务企业数计发，每年最高 service_subsidy.cap_per_year",
    # policy/startup_loan.py
    "§2 小微企业: the enterprise's registration as micro or small, learnt late, makes the loan eligible":
        "§2 小微企业：迟到得知企业登记为微型或小型企业，贷款符合贴息条件",
    "§2 创业担保贷款贴息: the interest above LPR − loan.borrower_bp_below_lpr, for a rate of at most LPR + loan.rate_cap_over_lpr_bp, "
    "pro rata by the days inside the subsidised term":
        "§2 创业担保贷款贴息：利率不超过 LPR + loan.rate_cap_over_lpr_bp 的，贴补高于 LPR − loan.borrower_bp_below_lpr 的利息，按贴息期内天数折算",
    "POLICY.md K13: no subsidy for interest periods ending after the default date": "POLICY.md K13：逾期之日后结束的计息期不予贴息",
    "§2 担保基金代偿: a defaulted guaranteed loan is reviewed for the guarantee fund's claim": "§2 担保基金代偿：逾期的担保贷款由担保基金审核代偿",
    # policy/training_subsidy.py
    "§11 按规定给予职业培训补贴: training.subsidy_by_level of the certified level (× training.online_ratio online)":
        "§11 按规定给予职业培训补贴：按取得证书等级的 training.subsidy_by_level（线上培训 × training.online_ratio）",
    "§1 困难企业开展职工在岗培训的补贴: training.on_job_per_trainee to the sponsoring enterprise":
        "§1 困难企业开展职工在岗培训的补贴：按每名学员 training.on_job_per_trainee 补贴给组织培训的企业",
    "§11 劳动预备制: trainee.living_allowance for each completed training month": "§11 劳动预备制：每完成一个培训月发放 trainee.living_allowance",
    "POLICY.md K14: a dropped course earns no training subsidy; months already completed stay paid":
        "POLICY.md K14：中途退出的不发放培训补贴；已完成月份的已付款项不追回",
    "POLICY.md part 2 late facts: the person's registration (unemployed, or employed as a flexible worker) dated on or before the start date, "
    "learnt late, makes the enrolment eligible":
        "POLICY.md 第二部分 迟到事实：迟到得知本人在开课日或之前已登记（失业登记或灵活就业登记），报名符合条件",
    # policy/welfare_post.py
    "§17: only months completed on the post are paid: on the facts known now the person left the post or was in stable employment before this month ended":
        "§17：只发放在岗完成的月份：按现有事实，本人在该月结束前已离岗或已稳定就业",
    "§17 累计安置次数原则上不超过{}次": "§17 累计安置次数原则上不超过{0}次",
    # workflows/case_base.py
    "POLICY.md part 2: an overpayment left when the payee has no more payments": "POLICY.md 第二部分：领取人已无后续支付时仍未扣回的多发款项",
    "no longer owed on the facts known now": "按现有事实已不再应发",
    # policy/corrections.py RECOVERY_OUTCOMES
    "POLICY.md part 2: the overpayment repaid by the payee outside deduction (receivable closed)":
        "POLICY.md 第二部分：多发款项由领取人另行退还（应收款结清）",
    "POLICY.md part 2: the overpayment written off by the office, not recoverable (receivable closed)":
        "POLICY.md 第二部分：多发款项无法追回，由经办机构核销（应收款结清）",
    # workflows/enterprise_si_subsidy.py
    "§2 企业吸纳就业困难人员; §16": "§2 企业吸纳就业困难人员；§16",
    # workflows/flexible_employment_subsidy.py
    "§16 就业困难人员; POLICY.md K4 period": "§16 就业困难人员；POLICY.md K4 补贴期限",
    "§13 期满仍未实现稳定就业的，可延长1年 (window {})": "§13 期满仍未实现稳定就业的，可延长1年（窗口{0}）",
    "§13: period ended on {} ({}); {} months paid": "§13：补贴期限于{0}结束（{1}）；已支付{2}个月",
    # workflows/hiring_subsidy.py
    "§10 登记失业半年以上 / 毕业年度高校毕业生": "§10 登记失业半年以上 / 毕业年度高校毕业生",
    "§10 一次性吸纳就业补贴: hire of {} in the epidemic period, contribution paid, applied on {}":
        "§10 一次性吸纳就业补贴：疫情期间招用{0}，已缴纳社会保险费，于{1}申请",
    "§10 一次性就业创业服务补助: referral of {}, the agency's total capped at {} fen":
        "§10 一次性就业创业服务补助：介绍{0}就业，机构累计最高 {1:yuan}",
    "§10 每户…最高不超过10万元": "§10 每户…最高不超过10万元",
    "§10: the contract ended on {}, before the months of contributions were paid": "§10：劳动合同于{0}终止，早于缴满规定月份的社会保险费",
    "§10 在疫情防控期间新招用: {}": "§10 在疫情防控期间新招用：{0}",
    "§10 申请日期…疫情解除后3个月内: the application (on {}) or the contribution (paid {}) came after L + 3 months = {}":
        "§10 申请日期…疫情解除后3个月内：申请（{0}）或缴费（{1}）晚于疫情解除后3个月（{2}）",
    # workflows/internship_subsidy.py
    "§14: hired by the unit with {} of {} days left (< 1/3) on {}, on or before {}: every month is paid":
        "§14：{2}被见习单位留用，{1}天见习期剩余{0}天（不足1/3），不晚于{3}：各月均予发放",
    "§14: completed months only when the internship ends early": "§14：见习提前结束的，只发放已完成的月份",
    "§14 相应延长: epidemic days move the end back": "§14 相应延长：疫情期间的天数使见习期相应顺延",
    "other interruptions pause accrual but do not move the end": "其他中断暂停计算，但不顺延见习期",
    "§14: completed months only when hired with a third or more left": "§14：剩余见习期达三分之一以上被留用的，只发放已完成的月份",
    # workflows/layoff_plan.py
    "§3 依法依规支付经济补偿，偿还拖欠的职工工资，补缴欠缴的社会保险费": "§3 依法依规支付经济补偿，偿还拖欠的职工工资，补缴欠缴的社会保险费",
    "§3 提前30日向工会或全体职工说明情况": "§3 提前30日向工会或全体职工说明情况",
    # workflows/public_welfare_post.py
    "§17 政策期满仍未实现稳定就业的，政策享受期限可延长1年 (window {}..{})": "§17 政策期满仍未实现稳定就业的，政策享受期限可延长1年（窗口{0}至{1}）",
    "§17: period ended on {} ({}); {} completed months paid": "§17：期限于{0}结束（{1}）；已支付{2}个完成月",
    "§17: completed month {} ({} .. {}); {}": "§17：第{0}个完成月（{1}至{2}）；{3}",
    # workflows/unemployment_assistance.py
    "§18 失业补助金: ua.ratio × ui.monthly_benefit at the start of each assistance month":
        "§18 失业补助金：每个补助月月初按 ui.monthly_benefit × ua.ratio 发放",
    "POLICY.md K3: re-employment stops assistance from the next month": "POLICY.md K3：再就业的，自次月起停发失业补助金",
    "§18 对领取失业保险金期满仍未就业、不符合领取失业保险金条件的参保失业人员，发放失业补助金":
        "§18 对领取失业保险金期满仍未就业、不符合领取失业保险金条件的参保失业人员，发放失业补助金",
    # workflows/unemployment_insurance.py
    "§18 参保失业人员": "§18 参保失业人员",
    "失业保险条例 §17; carry-over 合并计算 capped at ui.carry_over_cap_months": "失业保险条例 §17；合并计算，上限 ui.carry_over_cap_months",
    "POLICY.md K2 re-employment": "POLICY.md K2 再就业",
    "POLICY.md K3: not opened after ua.window_until": "POLICY.md K3：ua.window_until 之后不再开启",
    "§18 失业保险金: ui.monthly_benefit at the start of each benefit month": "§18 失业保险金：每个待遇月月初发放 ui.monthly_benefit",
    "§18 临时性提高发放标准至疫情解除后3个月: months starting in [S, L + 3 months)":
        "§18 临时性提高发放标准至疫情解除后3个月：自疫情发生至解除后3个月之间开始的月份",
    "§18 uplift owed for a month already paid, after a late or corrected epidemic date": "§18 疫情日期迟到或更正后，已支付月份补发提标部分",
    "§18 价格联动: once per case for the month in which it pays benefit": "§18 价格联动：每案在发放待遇的月份发放一次",
    "§18 距离法定退休年龄不足1年的，可继续领取失业保险金直至法定退休年龄": "§18 距离法定退休年龄不足1年的，可继续领取失业保险金直至法定退休年龄",
    "POLICY.md K2: no benefit for a month starting after re-employment or on or after retirement":
        "POLICY.md K2：再就业之后或退休之时及之后开始的月份不予发放",
    "§18 价格联动: no linkage for a calendar month in which the case pays no benefit": "§18 价格联动：未发放待遇的自然月不予联动",
}

# Values of notes that are words of the workflows' own (not codes of labels.py): read here, and
# a value not listed is shown as it is.
VALUE_WORDS: Final[dict[str, dict[str, str]]] = {
    "epidemic": {"declared": "发生", "lifted": "解除"},
    "recovery_outcome": {"repaid": "已由领取人退还", "written off": "已核销"},
    "post_kind": {"regular": "常规", "temporary": "临时"},
    "enterprise_size": {"micro": "微型企业", "small": "小型企业", "medium": "中型企业", "large": "大型企业"},
    "claim_verdict": {"approved": "获批", "denied": "不予批准"},
    "channel": {"phone": "电话", "visit": "走访", "online": "网上", "sms": "短信", "wechat": "微信"},
    "referral_outcome": {"hired": "已录用", "declined": "本人拒绝", "not_hired": "未录用"},
    "separation": {"involuntary": "非本人意愿中断就业", "voluntary": "本人意愿中断就业"},
    "certificate": {"junior": "初级", "intermediate": "中级", "senior": "高级", "special_skill": "专项能力", "none": "无"},
    "training_mode": {"onsite": "线下", "online": "线上"},
    "action": {"case.hold": "暂停本案", "case.release": "解除暂停", "task.decide": "决定任务", "task.decide.refused": "任务决定被拒绝",
               "quarantine.redrive": "重新投递", "quarantine.dismiss": "驳回隔离事件", "deadletter.redrive": "重新投递死信",
               "parameter.propose": "提出参数调整", "parameter.preview": "预览参数调整", "ledger.export": "导出台账"},
}

_SLOT = re.compile(r"\{(\d+)(?::(\w+))?\}")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def day(text: str) -> str:
    """A business date or month as people write it in Chinese: 2020年3月5日, 2020年3月 (else as is)."""
    if m := _DAY.match(text):
        return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"
    if m := _MONTH.match(text):
        return f"{int(m[1])}年{int(m[2])}月"
    return text


def _slot_regex(way: str | None) -> str:
    """What a value may be: a code of labels.py has no spaces or brackets, fen are digits; any
    other value anything (so a reason with brackets in it does not swallow the code after it)."""
    if way == "yuan":
        return r"(-?\d+)"
    if way in labels.GROUPS:
        return r"([^\s()]+)"
    return "(.+?)"


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    """Every pattern as an anchored regex, the most literal text first (so "late {} does not
    concern this case" is tried before "{} does not concern this case")."""
    entries = {**NOTES, **CONSOLE_NOTES, **RULES}
    ordered = sorted(entries.items(), key=lambda kv: (-len(kv[0].replace("{}", "")), kv[0]))
    compiled = []
    for key, zh in ordered:
        ways = {int(m[1]): m[2] for m in _SLOT.finditer(zh)}
        parts = key.split("{}")
        regex = re.escape(parts[0]) + "".join(_slot_regex(ways.get(i)) + re.escape(part) for i, part in enumerate(parts[1:]))
        compiled.append((re.compile(f"^{regex}$", re.DOTALL), zh))
    return compiled


class _NotACode(Exception):
    """A value given a labels.py group that is no code of it: the pattern does not fit."""


def _value(value: str, way: str | None) -> str:
    if way is None:
        return day(value)
    if way == "yuan":
        try:
            return labels.yuan(int(value))
        except ValueError:
            raise _NotACode(value) from None
    if way == "list":
        return "、".join(day(item.strip()) for item in value.split(","))
    if way in VALUE_WORDS:
        return VALUE_WORDS[way].get(value, value)
    if value not in labels.GROUPS[way]:
        raise _NotACode(value)
    return labels.name(way, value, "zh-CN")


def read(text: str | None, lang: Lang = labels.DEFAULT_LANG) -> str | None:
    """`text` (a timeline note or a rule) in `lang`: English is the case's own words; Chinese the
    reading of the first pattern it fits, with its values read; a text no pattern fits as it is."""
    if text is None or lang == "en":
        return text
    for regex, zh in _compiled():
        m = regex.match(text)
        if m is None:
            continue
        try:
            return _fill(zh, m.groups())
        except _NotACode:
            continue
    return text


def _fill(zh: str, values: tuple[str, ...]) -> str:
    return _SLOT.sub(lambda s: _value(values[int(s[1])], s[2]), zh)


def readings(text: str | None) -> dict[str, str | None]:
    """`text` in every language: what the API gives beside the raw text."""
    return {lang: read(text, lang) for lang in labels.LANGS}


def detail_key(key: str, lang: Lang = labels.DEFAULT_LANG) -> str:
    """The name of a details key in `lang` (labels.py DETAIL_KEYS), else the key."""
    return labels.name("detail", key, lang)
