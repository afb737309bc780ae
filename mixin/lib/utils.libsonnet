// Helpers shared by the rules, alerts and dashboard.
{
  // selector(['a="b"', '', 'c=~"d"']) -> 'a="b", c=~"d"' (empty parts dropped).
  join(parts):: std.join(', ', [p for p in parts if p != '']),

  // metric(name, parts) -> name{parts} or just name when every part is empty.
  metric(name, parts)::
    local s = self.join(parts);
    if s == '' then name else '%s{%s}' % [name, s],

  // "15m" -> "15 minutes", "1h" -> "an hour", "5m" -> "5 minutes".
  durationWords(d)::
    local unit = d[std.length(d) - 1];
    local n = std.parseInt(d[0:std.length(d) - 1]);
    local words = { s: 'second', m: 'minute', h: 'hour' };
    assert std.objectHas(words, unit) : 'duration %s: use s, m or h' % d;
    if n == 1 then (if unit == 'h' then 'an hour' else 'a ' + words[unit])
    else '%d %ss' % [n, words[unit]],

  // 7200 -> "2h", 5400 -> "90m", 45 -> "45s" (how the descriptions print a floor).
  secondsShort(s)::
    if s % 3600 == 0 then '%dh' % (s / 3600)
    else if s % 60 == 0 then '%dm' % (s / 60)
    else '%ds' % s,

  // Number as the rule text prints it: 1.5, 3, 0.1.
  num(x):: '%.12g' % x,

  // The runbook anchor of an alert in alerts/README.md.
  runbook(base, alert):: '%s#%s' % [base, std.asciiLower(alert)],
}
