"""Build the bundled example documents (fictional vendors, fictional employer).

    python src/crosswalk/examples/make_examples.py

Writes source_bpd.json, target_bpd.json, source_aa.json, source_aa_filled.json and
target_aa.json in crosswalk's own format. The source vendor ("Keystone") numbers
definitions 1.xx and quotes terms; the target vendor ("Harborview") puts terms in
capitals with "Means", orders articles differently and renumbers every question.
The text is written for these examples; it imitates the style of pre-approved
plan documents without copying any.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (source section, source title, source text, target section, target title, target text)
# None on one side: an item with no counterpart on the other.
BPD = [
    ("1.01", "Account", "'Account' means the separate account maintained for each Participant to which contributions, earnings and Forfeitures are allocated.",
     "", "ACCOUNT", "Means the bookkeeping account kept for a Participant that records contributions, investment earnings and any Forfeitures allocated to the Participant."),
    ("1.02", "Administrator", "'Administrator' means the Employer unless another person is appointed as provided in Section 9.1.",
     "", "PLAN ADMINISTRATOR", "Means the Employer, unless the Employer names another person or committee to administer the Plan under Plan Section 10.02."),
    ("1.03", "Beneficiary", "'Beneficiary' means the person designated by a Participant to receive benefits payable on the Participant's death, or the person entitled under Section 6.7 if no valid designation is in effect.",
     "", "BENEFICIARY", "Means the person or persons a Participant names to receive the Participant's vested Account after death; if no designation is valid, the default beneficiary order of Plan Section 7.09 applies."),
    ("1.04", "Code", "'Code' means the Internal Revenue Code of 1986, as amended.",
     "", "CODE", "Means the Internal Revenue Code of 1986, as amended from time to time."),
    ("1.05", "Compensation", "'Compensation' means wages as reported on Form W-2 as elected in the Adoption Agreement, including Elective Deferrals under Code Section 402(g)(3), and limited to $350,000 as adjusted under Code Section 401(a)(17).",
     "", "COMPENSATION", "Means W-2 wages, Code section 3401(a) wages or Code section 415 safe harbor compensation as selected in the Adoption Agreement, increased by elective deferrals and limited to the annual amount under Code section 401(a)(17)."),
    ("1.06", "Disability", "'Disability' means a physical or mental impairment that prevents the Participant from engaging in any substantial gainful activity, as determined by the Administrator, or as elected in the Adoption Agreement.",
     "", "DISABILITY", "Means a condition that renders the Participant unable to engage in any substantial gainful activity by reason of a medically determinable physical or mental impairment, unless another definition is selected in the Adoption Agreement."),
    ("1.07", "Effective Date", "'Effective Date' means the date this Plan or its restatement takes effect as specified in the Adoption Agreement.",
     "", "EFFECTIVE DATE", "Means the date the Plan, or the restated Plan, becomes effective as stated in the Adoption Agreement."),
    ("1.08", "Elective Deferral", "'Elective Deferral' means a contribution the Employer makes to the Plan at the Participant's election instead of paying the amount in cash, including Pre-Tax and Roth Elective Deferrals.",
     "", "ELECTIVE DEFERRALS", "Means amounts contributed by the Employer under a salary reduction agreement in place of cash compensation, whether pre-tax or designated Roth contributions."),
    ("1.09", "Employee", "'Employee' means any person employed by the Employer or an Affiliated Employer, including Leased Employees treated as employees under Code Section 414(n).",
     "", "EMPLOYEE", "Means any individual employed by the Employer or a Related Employer, and any Leased Employee deemed an employee under Code section 414(n)."),
    ("1.10", "Highly Compensated Employee", "'Highly Compensated Employee' means an Employee described in Code Section 414(q) who was a five percent owner or earned more than $160,000 (as adjusted) in the look-back year.",
     "", "HIGHLY COMPENSATED EMPLOYEE", "Means an Employee who is a 5% owner at any time during the current or prior year or who received compensation above the Code section 414(q) dollar amount in the preceding year."),
    ("1.11", "Hour of Service", "'Hour of Service' means each hour for which an Employee is paid or entitled to payment for the performance of duties for the Employer.",
     "", "HOUR OF SERVICE", "Means each hour for which an Employee is directly or indirectly paid, or entitled to payment, by the Employer for performing duties."),
    ("1.12", "Normal Retirement Age", "'Normal Retirement Age' means the age elected in the Adoption Agreement, which may not exceed age 65.",
     "", "NORMAL RETIREMENT AGE", "Means the age selected in the Adoption Agreement, which cannot be later than age 65 or, if later, the fifth anniversary of participation."),
    ("1.13", "Plan Year", "'Plan Year' means the twelve-consecutive-month period designated in the Adoption Agreement.",
     "", "PLAN YEAR", "Means the 12-consecutive-month period identified in the Adoption Agreement."),
    ("1.14", "Year of Service", "'Year of Service' means a computation period of twelve consecutive months in which the Employee completes at least 1,000 Hours of Service, or fewer hours as elected in the Adoption Agreement.",
     "", "YEAR OF ELIGIBILITY SERVICE", "Means a 12-month eligibility computation period during which the Employee is credited with at least 1,000 Hours of Service unless a lower number is selected in the Adoption Agreement."),
    ("1.15", "Forfeiture", "'Forfeiture' means the portion of a Participant's Account that is not vested and is lost upon a distribution or after five consecutive one-year Breaks in Service.",
     "", "FORFEITURE", "Means the nonvested portion of an Account that a Participant loses on distribution of the vested Account or after five consecutive Breaks in Vesting Service."),
    ("1.16", "Key Employee", "'Key Employee' means an Employee described in Code Section 416(i) for the Plan Year containing the Determination Date.",
     "", "KEY EMPLOYEE", "Means any Employee or former Employee who at any time during the Plan Year containing the Determination Date is an officer earning more than $130,000 as adjusted, a 5% owner, or a 1% owner earning more than $150,000, as provided in Code section 416(i)(1)."),
    ("2.1", "Eligibility Requirements", "An Employee will become a Participant after satisfying the age and service requirements elected in the Adoption Agreement, which may not exceed age 21 and one Year of Service (two Years of Service for contributions that are fully vested when made).",
     "2.01", "Conditions of Eligibility", "Each Employee becomes eligible to participate after meeting the age and service conditions selected in the Adoption Agreement; the Plan may not require more than one Year of Eligibility Service or age 21, except that two years may be required for contributions that are 100% vested."),
    ("2.2", "Entry Date", "An Employee who has satisfied the eligibility requirements becomes a Participant on the Entry Date elected in the Adoption Agreement that coincides with or next follows the date the requirements are met.",
     "2.02", "Entry Into the Plan", "An eligible Employee enters the Plan on the first Entry Date, as selected in the Adoption Agreement, on or after the date the Employee satisfies the eligibility conditions."),
    ("2.3", "Excluded Employees", "Employees covered by a collective bargaining agreement, nonresident aliens with no U.S. source income, and any other classification elected in the Adoption Agreement are not eligible to participate.",
     "2.03", "Excluded Classes of Employees", "Union employees covered by a collective bargaining agreement, nonresident aliens without U.S. earned income, and other classes excluded in the Adoption Agreement may not participate in the Plan."),
    ("2.4", "Rehired Employees", "A former Participant who is rehired becomes a Participant again immediately upon reemployment.",
     "2.05", "Reemployment of Former Participants", "A Participant who terminates employment and is later rehired resumes participation on the date of rehire."),
    ("3.1", "Elective Deferrals", "Each Participant may elect to defer a portion of Compensation as an Elective Deferral, up to the limit of Code Section 402(g), by entering into a salary reduction agreement with the Employer.",
     "3.01", "Salary Deferral Contributions", "A Participant may enter into a salary reduction agreement to have the Employer contribute part of the Participant's Compensation to the Plan, subject to the Code section 402(g) limit."),
    ("3.2", "Catch-Up Contributions", "A Participant who is age 50 or older by the end of the calendar year may make Catch-Up Contributions in excess of the otherwise applicable limits, as permitted by Code Section 414(v).",
     "3.02", "Catch-Up Contributions", "Participants who will attain age 50 before the close of the taxable year may make additional elective deferrals as catch-up contributions under Code section 414(v)."),
    ("3.3", "Automatic Enrollment", "If elected in the Adoption Agreement, an Employee who does not make an affirmative election will be treated as having elected to defer the default percentage of Compensation specified in the Adoption Agreement.",
     "3.04", "Automatic Deferral Arrangement", "When the Adoption Agreement provides for automatic deferrals, a Participant who makes no affirmative election is deemed to have elected the default deferral percentage stated in the Adoption Agreement."),
    ("3.4", "Matching Contributions", "The Employer will make Matching Contributions on behalf of Participants who make Elective Deferrals, in the amount and subject to the conditions elected in the Adoption Agreement.",
     "3.06", "Employer Matching Contributions", "The Employer shall contribute Matching Contributions based on a Participant's Elective Deferrals according to the formula and allocation conditions selected in the Adoption Agreement."),
    ("3.5", "Nonelective Contributions", "The Employer may make a discretionary Nonelective Contribution for a Plan Year, allocated as elected in the Adoption Agreement.",
     "3.07", "Employer Profit Sharing Contributions", "The Employer may contribute a discretionary nonelective amount for any Plan Year, which will be allocated using the allocation method selected in the Adoption Agreement."),
    ("3.6", "Safe Harbor Contributions", "If the Adoption Agreement elects a safe harbor arrangement, the Employer will make the safe harbor Matching or Nonelective Contribution required by Code Section 401(k)(12) and the Plan is deemed to satisfy the ADP test.",
     "3.08", "ADP Test Safe Harbor Contributions", "Where the Adoption Agreement selects an ADP test safe harbor, the Employer will contribute the safe harbor matching or nonelective contribution described in Code section 401(k)(12), and the ADP test is treated as satisfied."),
    ("3.7", "Rollover Contributions", "An Employee may contribute an eligible rollover distribution from another eligible retirement plan, if the Administrator determines the rollover satisfies Code Section 402(c).",
     "3.10", "Rollover Contributions", "The Plan may accept a rollover contribution of an eligible rollover distribution from another qualified plan or IRA, provided the Plan Administrator is satisfied it meets Code section 402(c)."),
    ("3.8", "Allocation Conditions", "To share in a Nonelective Contribution, a Participant must complete the number of Hours of Service and be employed on the last day of the Plan Year as elected in the Adoption Agreement.",
     "3.09", "Conditions for Receiving an Allocation", "A Participant must satisfy the service and last-day-of-the-Plan-Year employment requirements selected in the Adoption Agreement to receive an allocation of Employer contributions."),
    ("4.1", "Vesting of Elective Deferrals", "A Participant is at all times 100% vested in the Participant's Elective Deferral Account, Rollover Account and safe harbor contributions.",
     "5.01", "Fully Vested Accounts", "A Participant's Elective Deferral, rollover and safe harbor contribution accounts are always nonforfeitable."),
    ("4.2", "Vesting Schedule", "A Participant's interest in Employer Matching and Nonelective Contributions vests according to the vesting schedule elected in the Adoption Agreement, which must be at least as favorable as a six-year graded or three-year cliff schedule.",
     "5.02", "Vesting of Employer Contributions", "The vested percentage of a Participant's Matching and profit sharing contribution accounts is determined under the schedule selected in the Adoption Agreement, which may be no less generous than 6-year graded or 3-year cliff vesting."),
    ("4.3", "Full Vesting Events", "A Participant becomes fully vested upon reaching Normal Retirement Age, death, or Disability while employed.",
     "5.03", "Full Vesting Upon Certain Events", "A Participant becomes 100% vested upon attaining Normal Retirement Age, or upon death or becoming Disabled before terminating employment."),
    ("4.4", "Treatment of Forfeitures", "Forfeitures may be used to pay Plan expenses, reduce Employer contributions or be reallocated to Participants, as elected in the Adoption Agreement.",
     "5.06", "Use of Forfeitures", "Forfeitures will be applied to pay administrative expenses, to reduce Employer contributions, or as additional allocations, as selected in the Adoption Agreement."),
    ("5.1", "Distribution Upon Termination", "A Participant who terminates employment may receive a distribution of the vested Account balance as soon as administratively feasible after termination, or at the later time elected in the Adoption Agreement.",
     "6.01", "Benefits Payable on Severance From Employment", "After severance from employment a Participant may request payment of the vested Account as soon as practicable, unless the Adoption Agreement delays payment."),
    ("5.2", "Involuntary Cash-Out", "If the vested Account does not exceed $5,000, the Administrator will distribute it without the Participant's consent, and amounts over $1,000 will be rolled over to an IRA unless the Participant elects otherwise.",
     "6.03", "Mandatory Distributions", "Vested Accounts of $7,000 or less (the limit as increased by the SECURE 2.0 Act) will be paid without consent; a mandatory distribution above $1,000 will be rolled to an IRA designated by the Plan Administrator unless the Participant directs otherwise."),
    ("5.3", "Required Minimum Distributions", "Distributions will begin no later than the Participant's required beginning date and will satisfy Code Section 401(a)(9) and the regulations under it.",
     "6.08", "Minimum Distribution Requirements", "The Plan will make distributions starting by the required beginning date in amounts that comply with Code section 401(a)(9) and the Treasury regulations."),
    ("5.4", "Hardship Distributions", "If elected in the Adoption Agreement, a Participant may withdraw Elective Deferrals on account of an immediate and heavy financial need, using the safe harbor events of Treasury Regulation 1.401(k)-1(d)(3).",
     "6.11", "Hardship Withdrawals", "When permitted in the Adoption Agreement, a Participant may receive a hardship distribution from the Elective Deferral Account for an immediate and heavy financial need under the safe harbor standards of the regulations."),
    ("5.5", "In-Service Distributions at Age 59 1/2", "If elected in the Adoption Agreement, a Participant who has attained age 59 1/2 may withdraw all or part of the vested Account while still employed.",
     "6.10", "In-Service Withdrawals", "If the Adoption Agreement allows, a Participant who has reached age 59 1/2 may take a distribution of vested amounts before severance from employment."),
    ("6.1", "Participant Loans", "If elected in the Adoption Agreement, the Administrator may make loans to Participants under a written loan policy, limited to the lesser of $50,000 or one-half of the vested Account as required by Code Section 72(p).",
     "8.01", "Loans to Participants", "The Plan Administrator may, if the Adoption Agreement permits, make loans under a written loan program; loans may not exceed the lesser of $50,000 or 50% of the vested Account under Code section 72(p)."),
    ("7.1", "Top-Heavy Determination", "The Plan is top-heavy for a Plan Year if, as of the Determination Date, the present value of accounts of Key Employees exceeds 60% of the accounts of all Participants.",
     "9.01", "Determination of Top-Heavy Status", "The Plan is top-heavy if on the Determination Date the account balances of Key Employees are more than 60 percent of the total account balances of all Employees."),
    ("7.2", "Top-Heavy Minimum Allocation", "For a top-heavy Plan Year, each non-Key Employee Participant employed on the last day of the Plan Year will receive an allocation of at least 3% of Compensation.",
     "9.02", "Minimum Allocation for Top-Heavy Plans", "When the Plan is top-heavy, each non-Key Employee who is employed at the end of the Plan Year receives a minimum contribution of not less than three percent of Compensation."),
    ("8.1", "Limitation on Annual Additions", "Annual Additions to a Participant's Account for a Limitation Year may not exceed the lesser of $70,000 (as adjusted) or 100% of the Participant's compensation, as required by Code Section 415(c).",
     "4.01", "Maximum Annual Additions", "The annual additions credited to a Participant for any Limitation Year shall not exceed the Code section 415(c) limit: the lesser of 100% of compensation or the adjusted dollar amount."),
    ("9.5", "Amendment by Employer", "The Employer may amend its elections in the Adoption Agreement at any time, provided no amendment reduces a Participant's accrued benefit in violation of Code Section 411(d)(6).",
     "11.01", "Employer Amendments", "The Employer may change its Adoption Agreement selections, but no amendment may decrease a Participant's accrued benefit except as permitted by Code section 411(d)(6)."),
    ("9.6", "Termination of Plan", "The Employer may terminate the Plan at any time; upon termination all Participants become fully vested.",
     "11.03", "Plan Termination", "The Employer has the right to terminate the Plan; on termination or complete discontinuance of contributions every affected Participant becomes 100% vested."),
    ("9.9", "Governing Law", "Except where preempted by ERISA, the Plan and Trust are governed by the laws of the state named in Adoption Agreement Section 11.02.",
     "12.04", "Applicable State Law", "To the extent not preempted by ERISA, the Plan and Trust will be construed under the laws of the state where the Employer's principal office is located."),
    ("10.2", "Trust Investments", "The Trustee may invest Plan assets in any property, including life insurance contracts if permitted in Adoption Agreement Section 11.01 and Participant loans if permitted in Adoption Agreement Section 9.01.",
     "13.02", "Investment Powers of the Trustee", "The Trustee may invest the Trust Fund in any kind of property, including insurance contracts on the lives of Participants, and may make loans to Participants under the loan program if the Adoption Agreement permits loans."),
    # source-only and target-only provisions
    ("1.17", "Money Purchase Transfer Account", "'Money Purchase Transfer Account' means the account holding amounts transferred from a money purchase pension plan, which remain subject to the joint and survivor annuity rules.", None, None, None),
    (None, None, None, "6.15", "Qualified Birth or Adoption Distributions", "A Participant may receive a qualified birth or adoption distribution of up to $5,000 per child within one year after the birth or adoption, as permitted under Code section 72(t)(2)(H), if selected in the Adoption Agreement."),
    (None, None, None, "", "LONG-TERM PART-TIME EMPLOYEE", "Means an Employee who becomes eligible to make elective deferrals solely by completing at least 500 Hours of Service in each of two consecutive 12-month periods under Code section 401(k)(2)(D)."),
]


def _option(label, text, selected=None, fill_ins=()):
    return {"id": "", "label": label, "text": text, "is_selected": selected,
            "fill_ins": [{"label": f, "value": None} for f in fill_ins]}


# (source question, source context, source text, source options, target question, target context, target text, target options)
# options: list of (text, fill_in_labels); kind inferred from the "multi" flag.
AA = [
    ("1.01", "Employer Information", "Name of Adopting Employer:", [], "1.01", "Section 1 - Employer", "Employer name:", []),
    ("1.02", "Employer Information", "Employer's Employer Identification Number (EIN):", [], "1.03", "Section 1 - Employer", "EIN of the Employer:", []),
    ("1.03", "Employer Information", "Plan Year end (month and day):", [], "2.02", "Section 2 - Plan Information", "The Plan Year ends on:", []),
    ("1.04", "Employer Information", "Name of Plan:", [], "2.01", "Section 2 - Plan Information", "Plan name:", []),
    ("1.05", "Plan Effective Date", "Effective date of this restatement (select one):",
     [("New plan effective date:", ["date"]), ("Restatement effective date:", ["date"])],
     "2.04", "Section 2 - Plan Information", "This Adoption Agreement is (choose one):",
     [("A new plan with an Effective Date of:", ["date"]), ("An amendment and restatement of an existing plan, effective:", ["date"])]),
    ("2.01", "Eligibility", "Age requirement (select one):",
     [("No age requirement.", []), ("Age 18.", []), ("Age 21.", []), ("Other age (not to exceed 21):", ["age"])],
     "3.02", "Section 3 - Eligibility", "Minimum age to become a Participant (choose one):",
     [("None.", []), ("Age 21.", []), ("Age 18.", []), ("Age 20 1/2.", []), ("Specify age (21 or less):", ["age"])]),
    ("2.02", "Eligibility", "Service requirement (select one):",
     [("No service requirement.", []), ("One Year of Service.", []), ("Months of service:", ["months"]), ("Two Years of Service (nonelective contributions only).", [])],
     "3.03", "Section 3 - Eligibility", "Eligibility service required (choose one):",
     [("No service is required.", []), ("1 Year of Eligibility Service.", []), ("Specify number of months (not more than 12):", ["months"]), ("2 Years of Eligibility Service (not for Elective Deferrals).", [])]),
    ("2.03", "Eligibility", "Entry Date (select one):",
     [("Immediate upon satisfying requirements.", []), ("First day of each month.", []), ("First day of each Plan Year quarter.", []), ("Semi-annual: first day of the Plan Year and the seventh month.", [])],
     "3.05", "Section 3 - Eligibility", "Entry Dates (choose one):",
     [("Monthly: the first day of each month of the Plan Year.", []), ("Quarterly: the first day of the Plan Year and the first day of the fourth, seventh and tenth months.", []), ("Semi-annually: the first day of the Plan Year and the first day of the seventh month.", []), ("Date requirements are met.", [])]),
    ("2.04", "Eligibility", "Excluded Employees (select all that apply):",
     [("Union employees.", []), ("Nonresident aliens.", []), ("Leased Employees.", []), ("Other:", ["classification"])],
     "3.01", "Section 3 - Eligibility", "The following Employees are excluded from participating (choose all that apply):",
     [("Collectively bargained employees.", []), ("Nonresident alien employees with no U.S. income.", []), ("Leased Employees.", []), ("Part-time employees.", []), ("Other excluded class:", ["classification"])], ),
    ("3.01", "Compensation", "Compensation is defined as (select one):",
     [("W-2 wages.", []), ("Code Section 3401(a) wages.", []), ("Code Section 415 safe harbor compensation.", [])],
     "4.01", "Section 4 - Compensation", "Base definition of Compensation (choose one):",
     [("Form W-2 compensation.", []), ("Withholding wages under Code section 3401(a).", []), ("Code section 415 safe harbor compensation.", [])]),
    ("3.02", "Compensation", "Compensation excludes (select all that apply):",
     [("Bonuses.", []), ("Overtime.", []), ("Commissions.", [])],
     "4.02", "Section 4 - Compensation", "Exclusions from Compensation (choose all that apply):",
     [("Bonuses.", []), ("Overtime pay.", []), ("Commissions.", []), ("Fringe benefits.", [])]),
    ("4.01", "Elective Deferrals", "Elective Deferral limits (select one):",
     [("Up to the Code Section 402(g) limit.", []), ("Maximum percentage of Compensation:", ["percent"])],
     "5.01", "Section 5 - Deferrals", "Limits on Salary Deferrals (choose one):",
     [("Any amount up to the annual dollar limit.", []), ("No more than this percentage of Compensation:", ["percent"])]),
    ("4.02", "Elective Deferrals", "Roth Elective Deferrals permitted?",
     [("Yes.", []), ("No.", [])],
     "5.03", "Section 5 - Deferrals", "Will the Plan permit designated Roth contributions?",
     [("Yes.", []), ("No.", [])]),
    ("4.03", "Automatic Enrollment", "Automatic enrollment (select one):",
     [("Does not apply.", []), ("Applies to Employees hired after:", ["date"]), ("Applies to all eligible Employees who have no deferral election.", [])],
     "5.05", "Section 5 - Deferrals", "Automatic Deferral Arrangement (choose one):",
     [("Not applicable.", []), ("Applies to all Employees without an affirmative election.", []), ("Applies only to Employees hired on or after:", ["date"])]),
    ("4.04", "Automatic Enrollment", "Default deferral percentage:", [], "5.06", "Section 5 - Deferrals", "Automatic deferral percentage of Compensation:", []),
    ("5.01", "Matching Contributions", "Matching Contribution formula (select one):",
     [("No Matching Contributions.", []), ("Discretionary match.", []), ("Fixed match: percent of deferrals up to percent of Compensation:", ["match percent", "limit percent"]), ("Safe harbor basic match.", [])],
     "6.01", "Section 6 - Employer Matching", "Matching Contribution formula (choose one):",
     [("None.", []), ("Discretionary Matching Contribution.", []), ("Fixed percentage of Elective Deferrals, up to a percentage of Compensation:", ["match percent", "limit percent"]), ("Tiered match.", [])]),
    ("5.02", "Matching Contributions", "Allocation conditions for Matching Contributions (select all that apply):",
     [("None.", []), ("Employed on the last day of the Plan Year.", []), ("Hours of Service in the Plan Year:", ["hours"])],
     "6.04", "Section 6 - Employer Matching", "Conditions a Participant must satisfy to receive a Matching Contribution (choose all that apply):",
     [("No conditions.", []), ("Last day of the Plan Year employment requirement.", []), ("Minimum Hours of Service:", ["hours"])]),
    ("6.01", "Nonelective Contributions", "Nonelective Contribution (select one):",
     [("None.", []), ("Discretionary, allocated pro rata.", []), ("Discretionary, allocated by new comparability.", []), ("Fixed percent of Compensation:", ["percent"])],
     "7.01", "Section 7 - Profit Sharing", "Employer profit sharing contribution and allocation (choose one):",
     [("Not applicable.", []), ("Discretionary amount allocated in proportion to Compensation.", []), ("Discretionary amount allocated by group (cross-tested).", []), ("Fixed percentage of Compensation:", ["percent"])]),
    ("6.02", "Safe Harbor", "ADP safe harbor contribution (select one):",
     [("Not a safe harbor plan.", []), ("Safe harbor basic match.", []), ("Safe harbor enhanced match.", []), ("Safe harbor nonelective contribution of 3%.", [])],
     "6.08", "Section 6 - Safe Harbor", "ADP Test Safe Harbor Contributions (choose one):",
     [("Does not apply.", []), ("Basic Matching Contribution.", []), ("Enhanced Matching Contribution.", []), ("Nonelective Contribution of at least 3% of Compensation.", [])]),
    ("7.01", "Vesting", "Vesting schedule for Matching Contributions (select one):",
     [("100% immediate.", []), ("Three-year cliff.", []), ("Six-year graded.", []), ("Other:", ["schedule"])],
     "8.02", "Section 8 - Vesting", "Vesting schedule applicable to Matching Contributions (choose one):",
     [("Full and immediate vesting.", []), ("3 year cliff.", []), ("6 year graded.", []), ("2-6 year graded.", []), ("Specify schedule:", ["schedule"])]),
    ("7.02", "Vesting", "Vesting schedule for Nonelective Contributions (select one):",
     [("100% immediate.", []), ("Three-year cliff.", []), ("Six-year graded.", []), ("Other:", ["schedule"])],
     "8.03", "Section 8 - Vesting", "Vesting schedule applicable to profit sharing contributions (choose one):",
     [("Full and immediate vesting.", []), ("3 year cliff.", []), ("6 year graded.", []), ("Specify schedule:", ["schedule"])]),
    ("7.03", "Vesting", "Use of Forfeitures (select all that apply):",
     [("Pay Plan expenses.", []), ("Reduce Employer contributions.", []), ("Reallocate to Participants.", [])],
     "8.06", "Section 8 - Vesting", "Forfeitures will be used to (choose all that apply):",
     [("Pay administrative expenses.", []), ("Reduce Employer contributions.", []), ("Allocate as additional contributions.", [])]),
    ("8.01", "Distributions", "Normal Retirement Age (select one):",
     [("Age 65.", []), ("Age 62.", []), ("Other age:", ["age"])],
     "9.01", "Section 9 - Retirement", "Normal Retirement Age is (choose one):",
     [("Age 65.", []), ("Specify age (not over 65):", ["age"])]),
    ("8.02", "Distributions", "In-service distributions (select all that apply):",
     [("None.", []), ("At age 59 1/2.", []), ("Hardship.", [])],
     "9.04", "Section 9 - Distributions", "In-service withdrawals available (choose all that apply):",
     [("No in-service withdrawals.", []), ("Attainment of age 59 1/2.", []), ("Hardship.", []), ("Qualified birth or adoption distributions.", [])]),
    ("8.03", "Distributions", "Involuntary cash-out threshold (select one):",
     [("$5,000.", []), ("$1,000.", []), ("No involuntary cash-outs.", [])],
     "9.06", "Section 9 - Distributions", "Mandatory distribution of small accounts (choose one):",
     [("Vested Accounts of $7,000 or less.", []), ("Vested Accounts of $1,000 or less.", []), ("No mandatory distributions.", [])]),
    ("9.01", "Loans", "Participant loans permitted?",
     [("Yes.", []), ("No.", [])],
     "10.01", "Section 10 - Loans", "Will the Plan make loans to Participants?",
     [("Yes.", []), ("No.", [])]),
    ("9.02", "Loans", "Maximum number of outstanding loans:", [], "10.02", "Section 10 - Loans", "Number of loans a Participant may have outstanding at one time:", []),
    ("10.01", "Top-Heavy", "Top-heavy minimum allocation is provided in (select one):",
     [("This Plan.", []), ("Another plan of the Employer:", ["plan name"])],
     "11.01", "Section 11 - Top-Heavy", "The top-heavy minimum will be satisfied by (choose one):",
     [("This Plan.", []), ("Another plan maintained by the Employer:", ["plan name"])]),
    # source only / target only
    ("11.01", "Miscellaneous", "Life insurance may be purchased with Participant Accounts?", [("Yes.", []), ("No.", [])], None, None, None, None),
    ("11.02", "Miscellaneous", "State whose law governs the trust:", [], None, None, None, None),
    (None, None, None, None, "5.09", "Section 5 - Deferrals", "Long-term part-time Employees may make Elective Deferrals after (choose one):", [("Two consecutive years with 500 Hours of Service.", []), ("One year with 500 Hours of Service.", [])]),
    (None, None, None, None, "9.08", "Section 9 - Distributions", "Qualified birth or adoption distributions permitted?", [("Yes.", []), ("No.", [])]),
]

# The fictional employer's answers in the source AA: question -> selected option numbers (1-based) and fill-ins.
FILLED = {
    "1.01": "Acme Widget Company", "1.02": "12-3456789", "1.03": "December 31", "1.04": "Acme Widget Company 401(k) Plan",
    "1.05": ([2], {"date": "January 1, 2026"}), "2.01": ([3], {}), "2.02": ([3], {"months": "6"}), "2.03": ([2], {}),
    "2.04": ([1, 2], {}), "3.01": ([1], {}), "3.02": ([1], {}), "4.01": ([1], {}), "4.02": ([1], {}),
    "4.03": ([2], {"date": "January 1, 2026"}), "4.04": "4%", "5.01": ([3], {"match percent": "100", "limit percent": "4"}),
    "5.02": ([2], {}), "6.01": ([2], {}), "6.02": ([1], {}), "7.01": ([3], {}), "7.02": ([2], {}), "7.03": ([1], {}),
    "8.01": ([1], {}), "8.02": ([2, 3], {}), "8.03": ([1], {}), "9.01": ([1], {}), "9.02": "2",
    "10.01": ([1], {}), "11.01": ([2], {}), "11.02": "Delaware",
}


# What an analyst would enter on the target AA for Acme, written by hand from the
# filled source AA: target question -> (selected label(s) or text value, fill-ins).
# "ANALYST" marks a question the analyst must answer themselves (no source question).
EXPECTED_PROPOSALS = {
    "1.01": ("Acme Widget Company", {}), "1.03": ("12-3456789", {}), "2.01": ("Acme Widget Company 401(k) Plan", {}),
    "2.02": ("December 31", {}), "2.04": ("b", {"date": "January 1, 2026"}), "3.01": (["a", "b"], {}),
    "3.02": ("b", {}), "3.03": ("c", {"months": "6"}), "3.05": ("a", {}), "4.01": ("a", {}), "4.02": (["a"], {}),
    "5.01": ("a", {}), "5.03": ("a", {}), "5.05": ("c", {"date": "January 1, 2026"}), "5.06": ("4%", {}),
    "5.09": ("ANALYST", {}), "6.01": ("c", {"match percent": "100", "limit percent": "4"}), "6.04": (["b"], {}),
    "6.08": ("a", {}), "7.01": ("b", {}), "8.02": ("c", {}), "8.03": ("b", {}), "8.06": (["a"], {}),
    "9.01": ("a", {}), "9.04": (["b", "c"], {}), "9.06": ("a", {}), "9.08": ("ANALYST", {}), "10.01": ("a", {}),
    "10.02": ("2", {}), "11.01": ("a", {}),
}


def _kind(text: str, options: list) -> str:
    if not options:
        return "text"
    return "multi_select" if "all that apply" in text.lower() else "single_select"


def _election(prefix: str, n: int, number, context, text, options, answer=None) -> dict:
    labels = "abcdefghij"
    opts = []
    for k, (otext, fills) in enumerate(options):
        selected = None
        fill_values = {}
        if answer is not None and isinstance(answer, tuple):
            chosen, fill_values = answer
            selected = (k + 1) in chosen
        elif answer is not None:
            selected = False
        opts.append({"id": f"{prefix}-{n:03d}-{labels[k]}", "label": labels[k], "text": otext, "is_selected": selected,
                     "fill_ins": [{"label": f, "value": fill_values.get(f) if selected else None} for f in fills]})
    kind = _kind(text, options)
    value = None
    if isinstance(answer, str):
        value = answer
    elif isinstance(answer, tuple):
        chosen = [labels[c - 1] for c in answer[0]]
        value = chosen if kind == "multi_select" else chosen[0]
    return {"id": f"{prefix}-{n:03d}", "question_number": number, "question_text": text, "section_context": context,
            "kind": kind, "options": opts, "selected_value": value, "page": 1 + n // 4}


def _provision(prefix: str, n: int, number, title, text) -> dict:
    return {"id": f"{prefix}-{n:03d}", "section_number": number, "title": title, "text": text,
            "provision_type": "", "page": 2 + n // 3, "election_refs": []}


def build() -> dict[str, dict]:
    src_bpd = [(r[0], r[1], r[2]) for r in BPD if r[0] is not None]
    # the target vendor orders definitions alphabetically and articles differently
    tgt_bpd = sorted([(r[3], r[4], r[5]) for r in BPD if r[3] is not None],
                     key=lambda r: (r[0] != "", [int(x) for x in r[0].split(".")] if r[0] else [0], r[1]))
    src_aa = [r[:4] for r in AA if r[0] is not None]
    tgt_aa = sorted([r[4:] for r in AA if r[4] is not None], key=lambda r: [int(x) for x in r[0].split(".")])
    docs = {
        "source_bpd": {"id": "keystone-bpd", "role": "bpd", "vendor": "Keystone Document Services",
                       "title": "Keystone Defined Contribution Basic Plan Document #01",
                       "provisions": [_provision("ks-bpd", i, *r) for i, r in enumerate(src_bpd)]},
        "target_bpd": {"id": "harborview-bpd", "role": "bpd", "vendor": "Harborview Plan Documents",
                       "title": "Harborview Volume Submitter Basic Plan Document",
                       "provisions": [_provision("hv-bpd", i, *r) for i, r in enumerate(tgt_bpd)]},
        "source_aa": {"id": "keystone-aa", "role": "aa", "vendor": "Keystone Document Services",
                      "title": "Keystone 401(k) Adoption Agreement (blank)",
                      "elections": [_election("ks-aa", i, *r) for i, r in enumerate(src_aa)]},
        "source_aa_filled": {"id": "keystone-aa-acme", "role": "aa", "vendor": "Keystone Document Services",
                             "title": "Keystone 401(k) Adoption Agreement: Acme Widget Company",
                             "elections": [_election("ks-aa", i, *r, answer=FILLED.get(r[0])) for i, r in enumerate(src_aa)]},
        "target_aa": {"id": "harborview-aa", "role": "aa", "vendor": "Harborview Plan Documents",
                      "title": "Harborview 401(k) Adoption Agreement (blank)",
                      "elections": [_election("hv-aa", i, *r) for i, r in enumerate(tgt_aa)]},
    }
    for name, doc in docs.items():
        doc.update({"source_path": f"examples/{name}.json", "pages": None})
        doc.setdefault("provisions", [])
        doc.setdefault("elections", [])
    return docs


def gold(docs: dict[str, dict]) -> dict[str, list[dict]]:
    """Expected crosswalks, known by construction: each table row pairs a source with its target."""
    out: dict[str, list[dict]] = {"bpd": [], "aa": []}
    for kind, rows, key, src, tgt, s_at, t_at in (
        ("bpd", BPD, "provisions", "source_bpd", "target_bpd", 1, 4),
        ("aa", AA, "elections", "source_aa", "target_aa", 2, 6),
    ):
        text_field = "title" if kind == "bpd" else "question_text"
        src_ids = {r[text_field]: r["id"] for r in docs[src][key]}
        tgt_ids = {r[text_field]: r["id"] for r in docs[tgt][key]}
        for row in rows:
            if row[s_at - 1 if kind == "bpd" else s_at] is None:
                continue
            source = src_ids[row[s_at] if kind == "bpd" else row[s_at]]
            target = tgt_ids.get(row[t_at]) if row[t_at] is not None else None
            out[kind].append({"source": source, "targets": [target] if target else [],
                              "relation": "equivalent" if target else "none"})
    return out


def main() -> None:
    docs = build()
    expected = {q: {"value": v, "fill_ins": f} for q, (v, f) in EXPECTED_PROPOSALS.items()}
    (HERE / "expected_proposals.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    for kind, rows in gold(docs).items():
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        (HERE / f"expected_{kind}.jsonl").write_text(lines, encoding="utf-8")
        print(f"wrote examples/expected_{kind}.jsonl ({len(rows)} labels)")
    for name, doc in docs.items():
        payload = {"format": "crosswalk.document/v1", **doc}
        (HERE / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote examples/{name}.json ({len(doc['provisions']) or len(doc['elections'])} records)")


if __name__ == "__main__":
    main()
