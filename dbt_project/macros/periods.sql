{#
    Calendar quarters as the coalition writes them: '2025-Q2'.
    A quarter index (year * 4 + quarter - 1) numbers quarters consecutively, so that
    "the four quarters ending in q" is simply index between q - 3 and q.
#}

{% macro period_year(period) -%}
    cast(substring({{ period }}, 1, 4) as integer)
{%- endmacro %}

{% macro period_quarter(period) -%}
    cast(substring({{ period }}, 7, 1) as integer)
{%- endmacro %}

{% macro quarter_index(year, quarter) -%}
    ({{ year }} * 4 + {{ quarter }} - 1)
{%- endmacro %}

{% macro quarter_label(year, quarter) -%}
    (cast({{ year }} as varchar) || '-Q' || cast({{ quarter }} as varchar))
{%- endmacro %}

{% macro quarter_end_date(year, quarter) -%}
    {%- set quarter_start -%}
        cast(cast({{ year }} as varchar) || '-' || lpad(cast(3 * {{ quarter }} - 2 as varchar), 2, '0') || '-01' as date)
    {%- endset -%}
    cast({{ dbt.last_day(quarter_start, 'quarter') }} as date)
{%- endmacro %}

{#
    The value of a derived indicator: a count (no denominator) as is, a ratio times its multiplier
    (100 for PERCENT, 100000 for PER_100K); null when the denominator is 0.
#}
{% macro indicator_value(numerator, denominator, multiplier) -%}
    case
        when {{ denominator }} is null then cast({{ numerator }} as double)
        when {{ denominator }} = 0 then null
        else cast({{ numerator }} as double) * {{ multiplier }} / {{ denominator }}
    end
{%- endmacro %}

{# 'P' (provisional) when any contributing unit is provisional, else 'A' (accepted). #}
{% macro combined_obs_status(obs_status) -%}
    case when sum(case when {{ obs_status }} = 'P' then 1 else 0 end) > 0 then 'P' else 'A' end
{%- endmacro %}

{#
    The annual data sets (var annual_datasets, e.g. POLICY_FRAMEWORK: the period is a year), as an
    SQL list: the quarterly models leave them out.
#}
{% macro annual_datasets() -%}
    ({% for d in var('annual_datasets') %}'{{ d }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
