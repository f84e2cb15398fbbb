from setuptools import find_packages, setup

setup(
    name='pyskl',
    version='0.1.0',
    description='Skeleton-based action recognition toolbox built around DG-STGCN',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(include=['pyskl', 'pyskl.*']),
    install_requires=[
        # Capped so that pip never swaps a user's CPU torch for a newer CUDA build.
        'torch>=2.1,<=2.14.1',
        'mmengine>=0.10.4,<0.11',
        'mmcv-lite>=2.0,<2.3',
        'numpy>=1.24',
        'scipy>=1.10',
        'matplotlib>=3.7',
    ],
    extras_require={
        'tests': ['pytest>=7'],
        # ONNX export and onnxruntime inference (tools/deployment/export.py)
        'deploy': ['onnx>=1.16', 'onnxruntime>=1.18'],
        # the documentation site (mkdocs.yml): mkdocs build --strict
        'docs': ['mkdocs>=1.6,<2', 'mkdocs-material>=9.5'],
    },
)
