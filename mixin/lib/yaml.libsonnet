// A Prometheus rule file as YAML, keys in the conventional order
// (record/alert, expr, for, labels, annotations) rather than the
// alphabetical order of std.manifestYamlDoc. Deterministic: labels and
// annotations are sorted by key.
local plainChars = std.set(std.stringChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:./-'));
local letters = std.set(std.stringChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'));
local digits = std.set(std.stringChars('0123456789'));

// "5m", "1h", "90s": a Prometheus duration of one unit.
local isDuration(str) =
  std.length(str) > 1
  && std.member(std.set(std.stringChars('smhdwy')), str[std.length(str) - 1])
  && std.all([std.member(digits, ch) for ch in std.stringChars(str[0:std.length(str) - 1])]);

// A scalar: plain when it is a simple word starting with a letter (names,
// durations, severities), JSON-quoted (valid YAML) otherwise.
local scalar(s) =
  local str = std.toString(s);
  if isDuration(str) then str
  else if std.length(str) > 0
          && std.member(letters, str[0])
          && std.all([std.member(plainChars, ch) for ch in std.stringChars(str)])
          && !std.member(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n'], std.asciiLower(str))
  then str
  else std.escapeStringJson(str);

// A multi-line string ending in a newline as a literal block; others as a scalar.
local value(s, indent) =
  if std.length(s) > 0 && std.endsWith(s, '\n') && std.length(std.findSubstr('\n', s)) > 0 then
    '|\n' + std.join('', [
      (if l == '' then '\n' else indent + l + '\n')
      for l in std.split(s[0:std.length(s) - 1], '\n')
    ])
  else scalar(s) + '\n';

// Keys in a conventional order first (summary, description, runbook_url),
// the others sorted.
local firstKeys = ['summary', 'description', 'runbook_url'];
local mapping(obj, indent) = std.join('', [
  '%s%s: %s' % [indent, k, value(obj[k], indent + '  ')]
  for k in [f for f in firstKeys if std.objectHas(obj, f)]
           + [f for f in std.objectFields(obj) if !std.member(firstKeys, f)]
]);

local rule(r) =
  local first = if std.objectHas(r, 'record') then 'record' else 'alert';
  local i = '        ';
  '      - %s: %s' % [first, value(r[first], i)]
  + '%sexpr: %s' % [i, value(r.expr, i + '  ')]
  + (if std.objectHas(r, 'for') then '%sfor: %s' % [i, value(r['for'], i)] else '')
  + (if std.objectHas(r, 'labels') then '%slabels:\n%s' % [i, mapping(r.labels, i + '  ')] else '')
  + (if std.objectHas(r, 'annotations') then '%sannotations:\n%s' % [i, mapping(r.annotations, i + '  ')] else '');

{
  // ruleFile(groups, indent): "groups:" and every group, each line prefixed
  // by indent ('' for a rule file, '  ' under a PrometheusRule's spec).
  ruleFile(groups, indent='')::
    local text = 'groups:\n' + std.join('', [
      '  - name: %s    rules:\n%s' % [value(g.name, ''), std.join('', [rule(r) for r in g.rules])]
      for g in groups
    ]);
    std.join('', [
      (if l == '' then '\n' else indent + l + '\n')
      for l in std.split(text[0:std.length(text) - 1], '\n')
    ]),
}
