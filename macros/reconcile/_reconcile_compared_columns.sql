{#-
    The column pairs reconcile_rows compares: `columns` when given (model-side
    names), else every column both sides share, leaving out the keys and
    `exclude_columns`; `column_map` ({model name: compare name}) pairs columns
    named differently. Names match case-insensitively; each pair keeps the
    exact names and data types the warehouse reports.
-#}
{% macro _reconcile_compared_columns(model_columns, compare_columns, keys, columns, exclude_columns, column_map) %}
    {%- set test_name = 'reconcile_rows' -%}
    {%- if column_map is not none and column_map is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "backfill.reconcile_rows: column_map must map model column names to compare_model column names, e.g. {mail: email}.") }}
    {%- endif -%}
    {%- set mapped = {} -%}
    {%- for model_name, compare_name in (column_map or {}).items() -%}
        {%- do mapped.update({model_name | lower: compare_name}) -%}
    {%- endfor -%}
    {%- set model_by_name = {} -%}
    {%- for column in model_columns -%}
        {%- do model_by_name.update({column.name | lower: column}) -%}
    {%- endfor -%}
    {%- set compare_by_name = {} -%}
    {%- for column in compare_columns -%}
        {%- do compare_by_name.update({column.name | lower: column}) -%}
    {%- endfor -%}
    {%- set left_out = [] -%}
    {%- for name in keys.model + backfill._reconcile_list(exclude_columns, 'exclude_columns', test_name) -%}
        {%- do left_out.append(name | lower) -%}
    {%- endfor -%}
    {%- set compare_keys = [] -%}
    {%- for name in keys.compare -%}
        {%- do compare_keys.append(name | lower) -%}
    {%- endfor -%}

    {%- set explicit = backfill._reconcile_list(columns, 'columns', test_name) -%}
    {%- set candidates = explicit if explicit else (model_columns | map(attribute='name') | list) -%}
    {%- set pairs = [] -%}
    {%- for name in candidates if (name | lower) not in left_out -%}
        {%- set compare_name = mapped.get(name | lower, name) -%}
        {%- set model_column = model_by_name.get(name | lower) -%}
        {%- set compare_column = compare_by_name.get(compare_name | lower) -%}
        {%- if explicit and model_column is none -%}
            {{ exceptions.raise_compiler_error(
                "backfill.reconcile_rows: column '" ~ name ~ "' is not in the model (it has "
                ~ model_columns | map(attribute='name') | join(', ') ~ ").") }}
        {%- endif -%}
        {%- if (explicit or (name | lower) in mapped) and compare_column is none -%}
            {{ exceptions.raise_compiler_error(
                "backfill.reconcile_rows: column '" ~ compare_name ~ "' is not in compare_model (it has "
                ~ compare_columns | map(attribute='name') | join(', ') ~ ").") }}
        {%- endif -%}
        {%- if compare_column is not none and (explicit or (compare_name | lower) not in compare_keys) -%}
            {%- do pairs.append({
                'name': model_column.name,
                'compare_name': compare_column.name,
                'data_type': model_column.dtype,
                'compare_data_type': compare_column.dtype,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in mapped if name not in model_by_name -%}
        {{ exceptions.raise_compiler_error(
            "backfill.reconcile_rows: column_map names '" ~ name ~ "', which is not in the model.") }}
    {%- endfor -%}
    {%- if not pairs -%}
        {{ exceptions.raise_compiler_error(
            "backfill.reconcile_rows: no column to compare besides the keys; list them in columns or column_map.") }}
    {%- endif -%}
    {{ return(pairs) }}
{% endmacro %}
