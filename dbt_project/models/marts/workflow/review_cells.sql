-- What the secretariat reads before it accepts or returns a version (the review page): each
-- cell of a version awaiting review, beside the same cell in the unit's previous validated
-- version and in the country's four quarters before (the version each of them uses); the
-- fourth is the same quarter a year earlier. A cell the previous version had and this one has
-- not is a row too (value empty). Figures before disclosure control: never in the public
-- snapshot, only in the member's own store (pipelines/lib/publish.py).

{% set cell = ['indicator', 'sex', 'age', 'exploitation_form', 'citizenship', 'counterpart_area',
               'stage', 'identification_channel', 'unaccompanied'] %}

with

submissions as (

    select * from {{ ref('int_submissions_status_resolved') }}

),

observations as (

    select * from {{ ref('stg_raw__observations') }}

),

selected as (

    select * from {{ ref('int_observations_current') }}

),

queue as (

    select
        submission_id,
        country,
        dataset,
        period,
        version,
        {{ quarter_index(period_year('period'), period_quarter('period')) }} as period_index
    from submissions
    where current_status = 'validated'
        and not is_superseded
        and dataset is not null
        -- an annual policy report has items, not figures (the review page shows them apart)
        and dataset not in {{ annual_datasets() }}

),

previous as (

    select
        queue.submission_id,
        earlier.submission_id as previous_submission_id,
        earlier.version as previous_version
    from queue
    inner join submissions as earlier
        on earlier.country = queue.country
        and earlier.dataset = queue.dataset
        and earlier.period = queue.period
        and earlier.version < queue.version
        and earlier.intake_status = 'validated'
    qualify row_number() over (partition by queue.submission_id order by earlier.version desc) = 1

),

this_version as (

    select
        queue.submission_id,
        {% for c in cell %}observations.{{ c }},
        {% endfor %}observations.row_number,
        observations.value,
        observations.value_status
    from queue
    inner join observations
        on observations.submission_id = queue.submission_id

),

previous_cells as (

    select
        previous.submission_id,
        {% for c in cell %}observations.{{ c }},
        {% endfor %}observations.row_number,
        observations.value
    from previous
    inner join observations
        on observations.submission_id = previous.previous_submission_id

),

compared as (

    select
        coalesce(this_version.submission_id, previous_cells.submission_id) as submission_id,
        {% for c in cell %}coalesce(this_version.{{ c }}, previous_cells.{{ c }}) as {{ c }},
        {% endfor %}coalesce(this_version.row_number, previous_cells.row_number) as row_number,
        this_version.value,
        this_version.value_status,
        previous_cells.value as previous_value,
        this_version.submission_id is not null as in_this_version
    from this_version
    full outer join previous_cells
        on previous_cells.submission_id = this_version.submission_id
        {% for c in cell %}and previous_cells.{{ c }} is not distinct from this_version.{{ c }}
        {% endfor %}

),

earlier as (

    select
        queue.submission_id,
        {% for c in cell %}selected.{{ c }},
        {% endfor %}{% for n in range(1, 5) %}max(case when queue.period_index - selected.period_index = {{ n }}
            then selected.value end) as value_{{ n }}q_before{{ ',' if not loop.last }}
        {% endfor %}
    from queue
    inner join selected
        on selected.country = queue.country
        and selected.dataset = queue.dataset
        and selected.period_index between queue.period_index - 4 and queue.period_index - 1
    group by all

),

final as (

    select
        cast(compared.submission_id as varchar) as submission_id,
        cast(queue.country as varchar) as country,
        cast(queue.dataset as varchar) as dataset,
        cast(queue.period as varchar) as period,
        cast(queue.version as integer) as version,
        cast(previous.previous_version as integer) as previous_version,
        {% for c in cell %}cast(compared.{{ c }} as varchar) as {{ c }},
        {% endfor %}cast(compared.row_number as integer) as row_number,
        cast(compared.in_this_version as boolean) as in_this_version,
        cast(compared.value as bigint) as value,
        cast(compared.value_status as varchar) as value_status,
        cast(compared.previous_value as bigint) as previous_value,
        {% for n in range(1, 5) %}cast(earlier.value_{{ n }}q_before as bigint) as value_{{ n }}q_before{{ ',' if not loop.last }}
        {% endfor %}
    from compared
    inner join queue
        on queue.submission_id = compared.submission_id
    left join previous
        on previous.submission_id = compared.submission_id
    left join earlier
        on earlier.submission_id = compared.submission_id
        {% for c in cell %}and earlier.{{ c }} is not distinct from compared.{{ c }}
        {% endfor %}

)

select * from final
