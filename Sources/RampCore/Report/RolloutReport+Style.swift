/// The report's one style sheet: screen and print.
extension RolloutReport {

    static let css = """
        :root{--fg:#1f2328;--muted:#59636e;--faint:#818b98;--line:#d1d9e0;--soft:#f6f8fa;--info:#0969da}
        *{box-sizing:border-box}
        body{margin:0;background:#fff;color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,\
        "Helvetica Neue",Arial,"Noto Sans",sans-serif}
        main{max-width:1080px;margin:0 auto;padding:32px 28px 56px}
        h1{font-size:26px;line-height:1.2;margin:2px 0 6px} h1,h2,.gate-name,td.reason{overflow-wrap:anywhere}
        h2{font-size:19px;margin:0 0 10px} .rollout-id{color:var(--muted);font-weight:400}
        h3,.eyebrow{font-size:12px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
        h3{margin:28px 0 8px} .eyebrow{margin:0}
        .meta,.description,.empty,.policy{color:var(--muted);margin:4px 0} .muted{color:var(--muted)}
        code,pre{font:12px ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
        a{color:var(--info);text-decoration:none} a:hover{text-decoration:underline}
        .verification{margin:18px 0 8px;padding:10px 14px;border:1px solid;border-radius:8px}
        .verified{background:#dafbe1;border-color:#4ac26b;color:#116329}
        .failed{background:#ffebe9;border-color:#ff8182;color:#a40e26}
        .summary{margin:24px 0 8px} .table-wrap{overflow-x:auto}
        table{width:100%;border-collapse:collapse;font-size:13px;margin:4px 0 10px}
        th,td{padding:6px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
        th{background:var(--soft);color:var(--muted);font-size:12px;font-weight:600;white-space:nowrap}
        .num{text-align:right;font-variant-numeric:tabular-nums} .nowrap{white-space:nowrap}
        td.reason{min-width:16em} td.actor{min-width:8em} table.steps{width:auto}
        code.query{white-space:pre-wrap;overflow-wrap:anywhere}
        .badge{display:inline-block;padding:0 9px;border:1px solid;border-radius:999px;font-size:12px;font-weight:600;\
        line-height:1.6;vertical-align:middle;white-space:nowrap}
        .state-completed{color:#116329;background:#dafbe1;border-color:#4ac26b}
        .state-rolled_back{color:#a40e26;background:#ffebe9;border-color:#ff8182}
        .state-paused{color:#7d4e00;background:#fff8c5;border-color:#d4a72c}
        .state-progressing,.state-awaiting_approval{color:#0550ae;background:#ddf4ff;border-color:#54aeff}
        .state-pending,.state-unknown{color:var(--muted);background:var(--soft);border-color:var(--line)}
        section.rollout{margin-top:44px;padding-top:24px;border-top:2px solid var(--line)}
        .facts{display:flex;flex-wrap:wrap;gap:8px 32px;margin:10px 0 0}
        .facts dt{font-size:12px;color:var(--muted)} .facts dd{margin:0;font-weight:500}
        figure{margin:0 0 16px} .gate-name{font-weight:600} .bound-text,.key{color:var(--muted)}
        figcaption{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 10px;font-size:13px}
        .gate-kind{font-size:11px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 5px}
        .gate-kind.shadow{border-style:dashed} .key{font-size:12px}
        .tallies{margin-left:auto;display:flex;flex-wrap:wrap;gap:10px;font-size:12px;color:var(--muted)}
        .tally::before{content:"";display:inline-block;width:8px;height:8px;margin-right:4px;border-radius:50%;\
        background:var(--c)}
        .key::before{content:"";display:inline-block;width:16px;margin:0 4px 3px 0;border-top:2px solid var(--info)}
        .key-baseline::before{border-top:2px dashed var(--faint)}
        svg{display:block;width:100%;height:auto} svg text{font-family:inherit;font-size:11px;fill:var(--muted)}
        .grid{stroke:#eef1f4} .axis{stroke:#afb8c1} .tick.day{font-weight:600;fill:var(--fg)}
        .guide-line{stroke:var(--info);stroke-opacity:.35;stroke-dasharray:3 4}
        .guide-label{font-size:10.5px;fill:var(--info)}
        .share-area{fill:var(--info);fill-opacity:.08}
        .share-line{fill:none;stroke:var(--info);stroke-width:2.25;stroke-linejoin:round}
        .now-line,.transition-line{stroke:#c4ccd4;stroke-dasharray:2 3}
        .transition circle{fill:var(--c);stroke:#fff;stroke-width:1.5} .transition:hover circle{stroke:var(--fg)}
        .transition text{fill:var(--c);font-size:10.5px;font-weight:600;paint-order:stroke;stroke:#fff;\
        stroke-width:3px;stroke-linejoin:round}
        .series{fill:none;stroke:var(--info);stroke-width:1.5;stroke-linejoin:round}
        .series.estimate{stroke-opacity:.45}
        .series.baseline{stroke:var(--faint);stroke-dasharray:4 3} .zero-line{stroke:var(--faint)}
        .bound-line{stroke:#cf222e;stroke-width:1.2;stroke-dasharray:6 4;opacity:.8} .bound-label{fill:#cf222e}
        .errbar{stroke:#8c959f;stroke-width:1.2} .no-checks{fill:var(--faint);font-size:12px}
        circle.check{fill:var(--c);stroke:#fff;stroke-width:.8} circle.check:hover{stroke:var(--fg);stroke-width:1.5}
        .outcome-pass{--c:#1a7f37} .outcome-fail{--c:#cf222e} .outcome-no_data{--c:#8c959f}
        .outcome-error{--c:#d4661b} .outcome-inconclusive{--c:#8250df}
        .kind-danger{--c:#cf222e} .kind-warn{--c:#bf8700} .kind-ok{--c:#1a7f37} .kind-approval{--c:#0969da}
        .kind-neutral{--c:#57606a} .event{color:var(--c);font-weight:600}
        details.plan-text{margin-top:12px;border:1px solid var(--line);border-radius:8px}
        details.plan-text summary{cursor:pointer;padding:8px 12px;color:var(--muted)}
        details.plan-text pre{margin:0;padding:12px;background:var(--soft);border-top:1px solid var(--line);\
        white-space:pre-wrap;overflow-wrap:anywhere}
        footer{margin-top:48px;color:var(--faint);font-size:12px}
        @media print{@page{size:A4;margin:14mm 12mm} body{font-size:10pt} main{max-width:none;padding:0}
        section.rollout{break-before:page;border-top:0;margin-top:0;padding-top:0}
        figure,tr,.verification,.facts{break-inside:avoid} h2,h3{break-after:avoid} thead{display:table-header-group}
        .table-wrap{overflow:visible} a{color:inherit} details.plan-text pre{background:none}
        table{font-size:8.5pt} th,td{padding:4px 6px} td.reason,td.actor{min-width:0} code,pre{font-size:8pt}
        .badge,.verification,th,.tally::before{-webkit-print-color-adjust:exact;print-color-adjust:exact}}

        """
}
