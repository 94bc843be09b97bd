import { useEffect } from 'react';
import { forgetStoredProject, rememberProject, useProject, useProjects } from '../lib/project';

/**
 * The header's project switcher: all projects, or one of the caller's (GET /projects). The choice goes into the URL
 * (`?project=`) and this browser's storage; a remembered project the caller can't see (any more) is forgotten.
 */
export function ProjectSwitcher() {
  const { project, fromUrl, setProject } = useProject();
  const projects = useProjects();
  const list = projects.data;
  const known = project === null || (list?.some((p) => p.name === project) ?? true);
  useEffect(() => {
    if (project === null || !list) return;
    if (fromUrl) {
      if (known) rememberProject(project);
    } else if (!known) forgetStoredProject();
  }, [project, fromUrl, list, known]);
  return (
    <label className="project-switcher" title="The project the experiment and model lists show, and new ones go into">
      <span className="muted">Project</span>
      <select aria-label="Project" value={project ?? ''} disabled={!list && !projects.error} onChange={(e) => setProject(e.target.value === '' ? null : e.target.value)}>
        <option value="">All projects</option>
        {list?.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name}
          </option>
        ))}
        {project !== null && !list?.some((p) => p.name === project) && <option value={project}>{list ? `${project} (not found)` : project}</option>}
      </select>
    </label>
  );
}
