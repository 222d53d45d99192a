{#
    The frequencies every indicator family is published at, built from its quarterly parts (one
    row per indicator x area x quarter x breakdown; numerator and denominator kept apart, so that
    every window is a ratio of sums). Used by int_victim_indicators_windowed and
    int_indicators_windowed; each macro is one select over CTEs the model names.

      Q    the quarter itself
      R4Q  the four quarters ending in a quarter, only when all four are present for that cell
      A    the calendar year = the R4Q ending in Q4, so only when all four quarters are present;
           is_complete_year says whether all four are accepted (DOMAIN.md §2: otherwise the year
           is flagged incomplete). Q and R4Q rows have is_complete_year null.
#}

{#
    R4Q parts from quarterly parts (columns indicator_code, unit, ref_area, period_year,
    period_quarter, period_index, sex, age, exploitation_form, numerator, denominator,
    multiplier, obs_status): sums over the four quarters ending in each quarter, kept only when
    all four are present. obs_status P when any of the four is provisional; quarters_accepted
    counts the accepted ones.
#}
{% macro rolling_four_quarters(quarterly) -%}
    select
        indicator_code,
        unit,
        ref_area,
        period_year,
        period_quarter,
        sex,
        age,
        exploitation_form,
        numerator,
        denominator,
        multiplier,
        case when is_provisional = 1 then 'P' else 'A' end as obs_status,
        quarters_accepted
    from (
        select
            indicator_code,
            unit,
            ref_area,
            period_year,
            period_quarter,
            sex,
            age,
            exploitation_form,
            multiplier,
            sum(numerator) over four_quarters as numerator,
            sum(denominator) over four_quarters as denominator,
            max(case when obs_status = 'P' then 1 else 0 end) over four_quarters as is_provisional,
            sum(case when obs_status = 'A' then 1 else 0 end) over four_quarters as quarters_accepted,
            count(*) over four_quarters as quarters_in_window
        from {{ quarterly }}
        window four_quarters as (
            partition by indicator_code, ref_area, sex, age, exploitation_form
            order by period_index
            range between 3 preceding and current row
        )
    ) as rolling
    where quarters_in_window = 4
{%- endmacro %}

{#
    Rates per 100,000 population from R4Q counts (the output of rolling_four_quarters):
    rate_codes maps a count's indicator_code to its rate's code. The population is the seed's
    mid-year population of the year of the ending quarter, for the total, sex F / M and age
    Y0T17 / Y_GE18 (other breakdowns have no population: no rate).
#}
{% macro rates_per_100k(counts, population, rate_codes) -%}
    select
        case {{ counts }}.indicator_code
            {%- for count_code, rate_code in rate_codes.items() %}
            when '{{ count_code }}' then '{{ rate_code }}'
            {%- endfor %}
        end as indicator_code,
        'PER_100K' as unit,
        {{ counts }}.ref_area,
        {{ counts }}.period_year,
        {{ counts }}.period_quarter,
        {{ counts }}.sex,
        {{ counts }}.age,
        {{ counts }}.exploitation_form,
        {{ counts }}.numerator,
        cast({{ population }}.population as double) as denominator,
        cast(100000 as double) as multiplier,
        {{ counts }}.obs_status,
        {{ counts }}.quarters_accepted
    from {{ counts }}
    inner join {{ population }}
        on {{ population }}.iso3 = {{ counts }}.ref_area
        and {{ population }}.year = {{ counts }}.period_year
        and {{ population }}.sex = case {{ counts }}.sex
            when 'F' then 'F'
            when 'M' then 'M'
            when '_T' then 'total'
        end
        and {{ population }}.age_group = case {{ counts }}.age
            when 'Y0T17' then '0-17'
            when 'Y_GE18' then '18+'
            when '_T' then 'total'
        end
    where {{ counts }}.indicator_code in (
        {%- for count_code in rate_codes %}'{{ count_code }}'{{ ", " if not loop.last }}{% endfor -%}
    )
{%- endmacro %}

{#
    The published rows of a family: Q rows from the quarterly parts (those matching
    quarterly_filter, a SQL condition, when given), R4Q and A rows from the windowed parts
    (rolling_four_quarters plus any rates), with time_period, freq, period_end, value and
    is_complete_year.
#}
{% macro indicator_frequencies(quarterly, windowed, quarterly_filter=none) -%}
    select
        indicator_code,
        ref_area,
        time_period,
        freq,
        {{ quarter_end_date('period_year', 'period_quarter') }} as period_end,
        sex,
        age,
        exploitation_form,
        unit,
        numerator,
        denominator,
        multiplier,
        {{ indicator_value('numerator', 'denominator', 'multiplier') }} as value,
        obs_status,
        is_complete_year
    from (
        select
            indicator_code, ref_area, period_year, period_quarter, sex, age, exploitation_form,
            unit, numerator, denominator, multiplier, obs_status,
            {{ quarter_label('period_year', 'period_quarter') }} as time_period,
            'Q' as freq,
            cast(null as boolean) as is_complete_year
        from {{ quarterly }}
        {%- if quarterly_filter %}
        where {{ quarterly_filter }}
        {%- endif %}

        union all

        select
            indicator_code, ref_area, period_year, period_quarter, sex, age, exploitation_form,
            unit, numerator, denominator, multiplier, obs_status,
            {{ quarter_label('period_year', 'period_quarter') }} || '-R4Q' as time_period,
            'R4Q' as freq,
            cast(null as boolean) as is_complete_year
        from {{ windowed }}

        union all

        select
            indicator_code, ref_area, period_year, period_quarter, sex, age, exploitation_form,
            unit, numerator, denominator, multiplier, obs_status,
            cast(period_year as varchar) as time_period,
            'A' as freq,
            quarters_accepted = 4 as is_complete_year
        from {{ windowed }}
        where period_quarter = 4
    ) as labelled
{%- endmacro %}
