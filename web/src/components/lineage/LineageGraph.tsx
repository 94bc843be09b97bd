import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import {
  edgeLabel,
  edgePath,
  fitTransform,
  KIND_LABEL,
  layoutLineage,
  lineageHref,
  nodeHref,
  truncateLabel,
  zoomAt,
  type LineageDirection,
  type LineageEdge,
  type LineageNodeKind,
  type LineageNode,
  type PlacedNode,
  type Transform,
} from '../../logic/lineage-layout';
import './lineage.css';

interface Props {
  nodes: LineageNode[];
  edges: LineageEdge[];
  root?: string;
  /** Fills its parent (the lineage page) instead of a fixed height. */
  fill?: boolean;
  height?: number;
  /** Depth kept when re-rooting from a node's menu. */
  depth?: number;
  label?: string;
}

interface Menu {
  node: PlacedNode;
  x: number;
  y: number;
}

const KINDS: LineageNodeKind[] = ['dataset_version', 'external_dataset', 'run', 'model_version'];

/** An interactive lineage graph: dagre layout left to right, pan (drag), zoom (wheel, +/-), fit, click a node to open its page, right-click (or the menu key) to re-root. */
export function LineageGraph({ nodes, edges, root, fill, height = 320, depth = 3, label = 'Lineage graph' }: Props) {
  const navigate = useNavigate();
  const layout = useMemo(() => layoutLineage(nodes, edges), [nodes, edges]);
  const wrapRef = useRef<HTMLDivElement>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const [t, setT] = useState<Transform>({ x: 0, y: 0, k: 1 });
  const [menu, setMenu] = useState<Menu | null>(null);
  const [dragging, setDragging] = useState(false);
  const drag = useRef<{ x: number; y: number; tx: number; ty: number; moved: boolean; id: number } | null>(null);
  const suppressClick = useRef(false);

  const fit = useCallback(() => {
    const el = svgRef.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    setT(fitTransform(layout.width, layout.height, r.width, r.height));
  }, [layout]);
  useLayoutEffect(fit, [fit]);

  // wheel zoom needs a non-passive listener to keep the page from scrolling
  useEffect(() => {
    const el = svgRef.current;
    if (!el) return;
    const onWheel = (ev: WheelEvent) => {
      ev.preventDefault();
      const r = el.getBoundingClientRect();
      const factor = Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015));
      setT((cur) => zoomAt(cur, factor, ev.clientX - r.left, ev.clientY - r.top));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const zoomBy = (factor: number) => {
    const r = svgRef.current?.getBoundingClientRect();
    if (r) setT((cur) => zoomAt(cur, factor, r.width / 2, r.height / 2));
  };

  const open = (n: LineageNode) => {
    const href = nodeHref(n.id);
    if (href) navigate(href);
    else navigate(lineageHref(n.id, 'both', depth));
  };
  const reroot = (n: LineageNode, dir: LineageDirection) => {
    setMenu(null);
    navigate(lineageHref(n.id, dir, depth));
  };
  const openMenu = (n: PlacedNode, clientX?: number, clientY?: number) => {
    const r = wrapRef.current?.getBoundingClientRect();
    if (!r) return;
    const x = clientX !== undefined ? clientX - r.left : t.x + (n.x + n.width / 2) * t.k;
    const y = clientY !== undefined ? clientY - r.top : t.y + (n.y + n.height) * t.k;
    setMenu({ node: n, x: Math.min(x, r.width - 210), y: Math.min(y, r.height - 150) });
  };
  useEffect(() => {
    if (!menu) return;
    wrapRef.current?.querySelector<HTMLButtonElement>('.lin-menu button')?.focus();
  }, [menu]);

  const onKeyNode = (ev: ReactKeyboardEvent, n: PlacedNode) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      open(n);
    } else if (ev.key === 'ContextMenu' || (ev.shiftKey && ev.key === 'F10')) {
      ev.preventDefault();
      openMenu(n);
    }
  };
  const onKeySvg = (ev: ReactKeyboardEvent) => {
    if (ev.target !== svgRef.current) return;
    const step = 40;
    const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const m = moves[ev.key];
    if (m) {
      ev.preventDefault();
      setT((cur) => ({ ...cur, x: cur.x + m[0], y: cur.y + m[1] }));
    } else if (ev.key === '+' || ev.key === '=') zoomBy(1.25);
    else if (ev.key === '-') zoomBy(0.8);
    else if (ev.key === '0') fit();
  };

  return (
    <div
      ref={wrapRef}
      className={fill ? 'lineage fill' : 'lineage'}
      style={fill ? undefined : { height }}
      onKeyDown={(ev) => {
        if (ev.key === 'Escape' && menu) {
          setMenu(null);
        }
      }}
    >
      <div className="toolbar">
        <button onClick={() => zoomBy(1.25)} aria-label="Zoom in" title="Zoom in (+)">
          +
        </button>
        <button onClick={() => zoomBy(0.8)} aria-label="Zoom out" title="Zoom out (−)">
          −
        </button>
        <button onClick={fit} aria-label="Fit to view" title="Fit to view (0)">
          Fit
        </button>
      </div>
      <svg
        ref={svgRef}
        role="group"
        aria-label={label}
        tabIndex={0}
        className={dragging ? 'dragging' : undefined}
        onKeyDown={onKeySvg}
        onPointerDown={(ev) => {
          if (ev.button !== 0) return;
          setMenu(null);
          drag.current = { x: ev.clientX, y: ev.clientY, tx: t.x, ty: t.y, moved: false, id: ev.pointerId };
        }}
        onPointerMove={(ev) => {
          const d = drag.current;
          if (!d) return;
          const dx = ev.clientX - d.x;
          const dy = ev.clientY - d.y;
          if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
          if (!d.moved) {
            d.moved = true;
            setDragging(true);
            svgRef.current?.setPointerCapture(d.id);
          }
          setT((cur) => ({ ...cur, x: d.tx + dx, y: d.ty + dy }));
        }}
        onPointerUp={() => {
          suppressClick.current = drag.current?.moved ?? false;
          drag.current = null;
          setDragging(false);
        }}
        onPointerCancel={() => {
          drag.current = null;
          setDragging(false);
        }}
      >
        <defs>
          <marker id="lin-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="lin-arrow" />
          </marker>
        </defs>
        <g transform={`translate(${t.x},${t.y}) scale(${t.k})`}>
          {layout.edges.map((e, i) => (
            <g key={i} className="lin-edge" data-relation={e.relation}>
              <path d={edgePath(e.points)} markerEnd="url(#lin-arrow)" />
              <text x={e.label.x} y={e.label.y + 4} textAnchor="middle">
                {edgeLabel(e)}
              </text>
            </g>
          ))}
          {layout.nodes.map((n) => (
            <g
              key={n.id}
              className={`lin-node k-${n.kind}${n.id === root ? ' root' : ''}`}
              transform={`translate(${n.x},${n.y})`}
              role="link"
              tabIndex={0}
              aria-label={`${KIND_LABEL[n.kind]} ${n.label}${n.id === root ? ' (root)' : ''}`}
              data-node-id={n.id}
              onClick={() => {
                if (suppressClick.current) {
                  suppressClick.current = false;
                  return;
                }
                open(n);
              }}
              onContextMenu={(ev) => {
                ev.preventDefault();
                openMenu(n, ev.clientX, ev.clientY);
              }}
              onKeyDown={(ev) => onKeyNode(ev, n)}
            >
              <title>{`${n.id}\n${nodeHref(n.id) ? 'Click to open; right-click or the menu key for lineage from here' : 'Right-click or the menu key for lineage from here'}`}</title>
              <rect className="box" width={n.width} height={n.height} rx={6} />
              <rect className="bar" width={5} height={n.height} rx={2} />
              <text className="kind" x={14} y={17}>
                {KIND_LABEL[n.kind]}
              </text>
              <text x={14} y={35}>
                {truncateLabel(n.label)}
              </text>
            </g>
          ))}
        </g>
      </svg>
      <div className="legend" aria-hidden="true">
        {KINDS.map((k) => (
          <span key={k}>
            <i style={{ background: `var(--lin-${k === 'dataset_version' ? 'dataset' : k === 'external_dataset' ? 'external' : k === 'run' ? 'run' : 'model'})` }} />
            {KIND_LABEL[k]}
          </span>
        ))}
      </div>
      {menu && (
        <div className="lin-menu" role="menu" aria-label={`Actions for ${menu.node.label}`} style={{ left: menu.x, top: menu.y }}>
          <div className="title">{menu.node.label}</div>
          {nodeHref(menu.node.id) && (
            <button role="menuitem" onClick={() => open(menu.node)}>
              Open page
            </button>
          )}
          <button role="menuitem" onClick={() => reroot(menu.node, 'up')}>
            Lineage upstream from here
          </button>
          <button role="menuitem" onClick={() => reroot(menu.node, 'down')}>
            Lineage downstream from here
          </button>
          <button role="menuitem" onClick={() => reroot(menu.node, 'both')}>
            Both directions from here
          </button>
        </div>
      )}
    </div>
  );
}
